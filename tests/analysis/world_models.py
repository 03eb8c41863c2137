"""The URL harness's objects of the customer analysis (models)."""


def build(world, today) -> None:
    pass
