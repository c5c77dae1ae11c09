"""poseact.learn.evaluate: "is the head down?" for the model and the rules, on head-box rows."""

import numpy as np

from poseact.label import rules
from poseact.learn import evaluate


def test_down_against_rest_judges_model_and_rules_on_one_question():
    classes = ["down", "lookaround", "phone", "up"]
    labels = np.array([0, 0, 1, 3, 2])  # down, down, lookaround, up, phone (not judged)
    predicted = np.array([0, 3, 1, 0, 0])  # right, wrong, right, wrong
    rules_read = ["reading", "other", "writing", "other", "reading"]  # right, wrong, wrong, right
    out = evaluate.down_against_rest(labels, predicted, rules_read, classes)
    assert out == {"n": 4, "model_right": 0.5, "rules_right": 0.5, "share_down": 0.5}
    assert evaluate.down_against_rest(labels, predicted, rules_read, ["a", "b", "c", "d"]) is None


def test_rules_read_every_row_as_its_own_person():
    rows, frames = 3, 48
    pose = np.random.default_rng(0).uniform(0.2, 0.8, (rows, frames, 24, 3)).astype(np.float32)
    pose[..., 2] = 0.9
    mask = np.zeros((rows, frames), np.float32)
    mask[:, :15] = 1.0
    read = evaluate.rules_actions(pose, mask, 15.0)
    assert len(read) == rows and set(read) <= set(rules.CLASSES)
