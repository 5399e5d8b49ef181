"""The chaos suite (`./run chaos`): the fleet under faults loses nothing and does nothing twice."""
