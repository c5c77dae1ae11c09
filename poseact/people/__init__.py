"""Finding and following the students of a frame: the tracker, person boxes, the phantom rules and the followers."""
