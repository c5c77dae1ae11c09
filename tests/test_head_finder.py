"""poseact.people.head_finder and its model: FaceBoxes' anchors and decoding checked against its own graph, the face
boxes made into person boxes, and the head finder on a real photo and on real classroom frames."""


import cv2
import numpy as np
import pytest

from poseact.data.annotations import read_yolo
from poseact.people import finder_model, head_finder
from poseact.people.head_finder import FACE_OF_HEAD, HeadFinder, anchors, decode, person_box_from_face
from poseact.people.heads import match_heads
from poseact.people.tracker import HEAD_IN_BOX, head_in_box, on_face
from tests.classroom_frames import CCTV
from tests.model_at_hand import resolved_or_skip


def test_anchors_are_spread_over_their_own_size_cell_by_cell():
    # A 384 x 512 image (a multiple of 128): 12 x 16 cells of 21 anchors at stride 32, 6 x 8 and 3 x 4 of one.
    boxes = anchors(384, 512) * np.array([384, 512, 384, 512])
    assert boxes.shape == (12 * 16 * 21 + 6 * 8 + 3 * 4, 4)
    # The first cell: 32 px anchors 4 x 4 (centres 4, 12, 20, 28 px; the row fastest), 64 px 2 x 2 (centres 0 and
    # 32), one 128 px (centre 16); clipped to the image.
    assert np.allclose(boxes[:4], [[0, 0, 20, 20], [0, 0, 28, 20], [4, 0, 36, 20], [12, 0, 44, 20]])
    assert np.allclose(boxes[4], [0, 0, 20, 28])
    assert np.allclose(boxes[16:21], [[0, 0, 32, 32], [0, 0, 64, 32], [0, 0, 32, 64], [0, 0, 64, 64],
                                      [0, 0, 80, 80]])
    # The second cell of the first row starts 32 px to the right.
    assert np.allclose(boxes[21 + 10], [4 + 0, 4 + 32, 36, 36 + 32])
    # The last anchor: the 512 px one of the last cell of stride 128, centre (320, 448).
    assert np.allclose(boxes[-1], [64, 192, 384, 512])


def test_a_zero_encoding_is_its_anchor_and_the_score_is_the_face_class():
    anchor = np.array([[0.2, 0.3, 0.4, 0.6]])
    boxes, scores = decode(np.zeros((1, 4)), np.array([[0.0, np.log(3.0)]]), anchor)
    assert np.allclose(boxes, anchor) and np.allclose(scores, [0.75])
    # ty = 10 moves the centre down one anchor height; th = 5 makes it e times taller.
    boxes, _ = decode(np.array([[10.0, 0.0, 5.0, 0.0]]), np.zeros((1, 2)), anchor)
    assert np.allclose(boxes, [[0.5 - 0.1 * np.e, 0.3, 0.5 + 0.1 * np.e, 0.6]])


def test_a_face_becomes_a_seated_students_person_box():
    face = np.array([100.0, 200.0, 122.0, 224.0])  # 22 px: a 40 px head
    box = person_box_from_face(face)
    head = 22.0 / FACE_OF_HEAD
    assert box[2] - box[0] == pytest.approx(1.7 * head) and box[3] - box[1] == pytest.approx(2.64 * head)
    assert (box[0] + box[2]) / 2 == pytest.approx(111.0)
    # The face lies in the box's upper part, where the tracker looks for a posed student's face.
    assert head_in_box(np.array([[111.0, 212.0]]), box)
    assert box[1] < 200.0 and 212.0 - box[1] < HEAD_IN_BOX * (box[3] - box[1])


def test_a_pose_is_on_a_face_within_half_a_face_width_of_it():
    face = np.array([100.0, 100.0, 120.0, 124.0])  # 20 px wide: a 36 px head
    assert on_face(np.array([[110.0, 112.0]]), face)
    assert on_face(np.array([[128.0, 92.0]]), face)  # at the head's edge
    # A neighbour's face, a head width (36 px) to the side or a row (about a head) lower, is not on it.
    assert not on_face(np.array([[146.0, 112.0]]), face) and not on_face(np.array([[110.0, 150.0]]), face)


@pytest.fixture(scope="module")
def head_model():
    return resolved_or_skip(finder_model.resolve_heads, "the head finder's model")


def test_the_decoding_here_is_the_graphs_own(head_model):
    # The graph's own padding, anchors, decoding and NMS (TensorFlow, from the kept model.json) against ours on a
    # real photo: the same faces, the same boxes.
    import tensorflow as tf
    from skimage import data

    from poseact.people import tfjs_graph

    source = finder_model.source_dir(head_model.name) / "faceboxes.json"
    graph_def, _, _ = tfjs_graph.build_graph_def(str(source))
    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
    graph = wrapped.prune(["image_tensor:0"], ["boxes:0", "scores:0", "num_boxes:0"])
    rgb = data.astronaut()
    finder = HeadFinder(head_model.path.read_bytes(), min_head_px=40.0, min_score=0.5)
    scale = finder.scale_for(rgb.shape[1], rgb.shape[0])
    big = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)))
    boxes, scores, count = (t.numpy()[0] for t in graph(tf.constant(big[None])))
    keep = scores[:int(count)] >= 0.5
    theirs = boxes[:int(count)][keep][:, [1, 0, 3, 2]] * np.array([big.shape[1], big.shape[0]] * 2) / scale
    ours, our_scores = finder.find(rgb)
    assert len(ours) == len(theirs) >= 1
    assert np.allclose(np.sort(our_scores), np.sort(scores[:int(count)][keep]), atol=1e-4)
    assert np.abs(ours[np.argsort(-our_scores)] - theirs[np.argsort(-scores[:int(count)][keep])]).max() < 0.5


def test_a_real_face_is_found_and_its_box_is_a_persons(head_model):
    from skimage import data

    rgb = data.astronaut()  # 512 x 512, her face about 100 px wide around (250, 140)
    faces, scores = HeadFinder(head_model.path.read_bytes(), min_head_px=40.0).find(rgb)
    assert len(faces) == 1 and scores[0] > 0.9
    cx, cy = (faces[0, 0] + faces[0, 2]) / 2, (faces[0, 1] + faces[0, 3]) / 2
    assert 200 < cx < 300 and 90 < cy < 200
    # Nobody in an empty picture.
    assert len(HeadFinder(head_model.path.read_bytes(), min_head_px=40.0).find(np.full((300, 400, 3), 128,
                                                                                        np.uint8))[0]) == 0


@pytest.mark.skipif(not CCTV.exists(), reason="no ../shared/data/classroom_cctv")
def test_real_classroom_frames_show_most_heads(head_model):
    # Three frames far apart in the recording (the whole set's figure, 60 frames: docs/people.md). A face box matches
    # a labelled head when its centre lies in the head box grown by a quarter (as the scorer matches a pose's face).
    frames = read_yolo(CCTV)
    finder = HeadFinder(head_model.path.read_bytes(), min_head_px=20.0)
    found = labelled = misplaced = boxes_seen = 0
    for frame in (frames[0], frames[20], frames[40]):
        faces, _ = finder.find(cv2.cvtColor(cv2.imread(frame.path), cv2.COLOR_BGR2RGB))
        centres = np.stack([(faces[:, 0] + faces[:, 2]) / 2, (faces[:, 1] + faces[:, 3]) / 2], axis=1)
        match = match_heads(frame.boxes, centres, grow=0.25)
        found += len(match.pairs)
        labelled += len(frame.boxes)
        misplaced += len(match.unmatched)
        boxes_seen += len(faces)
    assert found / labelled >= 0.75  # 59 of 75 here (0.84 of all 1,481 at the default score)
    assert misplaced / boxes_seen <= 0.15  # faces at the unlabelled front desk count here too
    assert head_finder.MIN_SCORE == 0.3


@pytest.mark.skipif(not CCTV.exists(), reason="no ../shared/data/classroom_cctv")
def test_a_class_pass_with_the_head_finder_poses_students_the_person_finder_left(head_model):
    # Real classroom frames, one detection pass each, with and without the head finder: with it, faces nobody was
    # posed on are posed from boxes of their own, and more labelled students are found on the same frames.
    from poseact.people.heads import head_point
    from poseact.people.tracker import PeopleConfig, PeoplePoser
    from poseact.pose import pose_model

    try:
        buffer = pose_model.resolve("full").path.read_bytes()
        finder = finder_model.resolve().path.read_bytes()
    except (pose_model.PoseModelError, finder_model.FinderModelError) as err:
        pytest.skip(f"no pose or finder model here: {err}")
    frames = read_yolo(CCTV)
    found = {False: 0, True: 0}
    boxed = 0
    for frame in (frames[34], frames[53]):
        rgb = cv2.cvtColor(cv2.imread(frame.path), cv2.COLOR_BGR2RGB)
        for heads in (False, True):
            config = PeopleConfig(finder="auto", max_people=60, find_heads=heads)
            with PeoplePoser(buffer, config, 15.0, finder) as poser:
                seen = poser.process(rgb, 0.0)
                assert poser.class_chunk
                points = np.array([head_point(o.landmarks, rgb.shape[1], rgb.shape[0]) for o in seen])
                found[heads] += len(match_heads(frame.boxes, points).pairs)
                boxed += poser.heads_boxed if heads else 0
                assert heads or poser.heads_boxed == 0
    assert boxed >= 2
    assert found[True] > found[False]
