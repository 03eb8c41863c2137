"""The URL harness's objects of the customer analysis (reports)."""


def build(world, today) -> None:
    pass
