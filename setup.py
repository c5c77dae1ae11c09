"""poseact package; also usable as Beam's `--setup_file` to ship our code to workers.

Dependencies are deliberately not listed in `install_requires`: the set needs one resolver override
(see overrides.txt) that pip cannot express, so environments install `requirements.lock` with uv
(`launch/setup_env.sh`, and the worker container recipe) and this package on top with `--no-deps`.
"""

from setuptools import find_packages, setup

setup(
    name="poseact",
    version="0.1.0",
    description="Classroom action recognition from 2D body pose (MediaPipe, Beam, TensorFlow).",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["poseact", "poseact.*", "pipelines", "pipelines.*", "schemas"]),
    package_data={"schemas": ["*.pbtxt"]},
    include_package_data=True,
    install_requires=[],
    entry_points={"console_scripts": ["poseact = poseact.cli:main"]},
)
