"""The URL harness's objects of the customer analysis (save)."""


def build(world, today) -> None:
    pass
