"""The seeded catalogue: the same seed and anchor time always give the same videos.

The first videos are fixed cases, so any catalogue of :data:`GUARANTEED` or more videos covers every
status, both file-size spellings, files over 2 GiB, encrypted and watermarked jobs, failed jobs,
fractional frame rates, a job missing an optional field and videos older than a year. The rest are
drawn with realistic proportions. Unfinished jobs work for 30-300 s of emulated time.

All of that is over within 300 s, so the last videos (one in :data:`RERUN_SHARE`, never a fixed case)
are transcoded again every :data:`RERUN_PERIOD` seconds from then on: at any later time some of them
are ``Processing`` or ``Partial``, and their summary is the latest task's. They come from their own
RNG, so every ID and every summary at the anchor time is what it was without them.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

from gateway.emulator.model import (
    ALL_FAILED,
    ALL_SUCCEEDED,
    OLDER_THAN_A_YEAR,
    PARTIAL,
    PARTLY_SUCCEEDED,
    PROCESSING,
    YEAR_SECONDS,
    Job,
    Video,
)

DAY = 86400

# definition -> landscape width, height, nominal Kbit/s
DEFINITIONS = {
    "LD": (640, 360, 400),
    "SD": (848, 480, 900),
    "HD": (1280, 720, 1500),
    "FHD": (1920, 1080, 3000),
    "2K": (2560, 1440, 6000),
    "4K": (3840, 2160, 12000),
}

# (jobs as (definition, format), encrypted, watermarked): an account's template groups
GROUP_SHAPES: tuple[tuple[tuple[tuple[str, str], ...], bool, bool], ...] = (
    ((("LD", "mp4"), ("SD", "mp4"), ("HD", "mp4")), False, False),
    ((("SD", "m3u8"), ("HD", "m3u8"), ("FHD", "m3u8")), True, False),
    ((("HD", "mp4"), ("FHD", "mp4"), ("2K", "mp4"), ("4K", "mp4")), False, True),
    ((("LD", "m3u8"), ("SD", "m3u8"), ("HD", "m3u8"), ("FHD", "m3u8")), False, True),
    ((("SD", "flv"), ("HD", "flv")), False, False),
    ((("FHD", "m3u8"), ("4K", "m3u8")), True, True),
)
GROUP_WEIGHTS = (30, 15, 15, 20, 10, 10)

KIND_WEIGHTS = {
    ALL_SUCCEEDED: 72,
    PARTLY_SUCCEEDED: 6,
    ALL_FAILED: 4,
    PROCESSING: 8,
    PARTIAL: 6,
    OLDER_THAN_A_YEAR: 4,
}

ERRORS = (
    ("InvalidParameter.ResourceContentBad", "The resource operated InputFile is bad."),
    ("TranscodeFail.DecodeError", "The input file could not be decoded."),
    ("InternalError.TranscodeTimeout", "The transcoding job timed out."),
    ("InvalidParameter.ResolutionNotSupported", "The input resolution is not supported."),
)

INTEGER_FPS = ("25", "30", "30", "24", "60")
FRACTIONAL_FPS = ("29.97", "23.976", "59.94")

# kind and forced features of the first videos
FIXED_CASES: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (kind, frozenset(features))
    for kind, features in (
        (ALL_SUCCEEDED, ()),
        (PROCESSING, ()),
        (PARTIAL, ()),
        (PARTLY_SUCCEEDED, ()),
        (ALL_FAILED, ()),
        (OLDER_THAN_A_YEAR, ()),
        (ALL_SUCCEEDED, ("big", "FileSize")),
        (ALL_SUCCEEDED, ("encrypted", "watermark")),
        (ALL_SUCCEEDED, ("fractional",)),
        (ALL_SUCCEEDED, ("missing",)),
        (PROCESSING, ("encrypted",)),
        (PARTIAL, ("big",)),
        (PARTLY_SUCCEEDED, ("fractional", "FileSize")),
        (ALL_FAILED, ("watermark",)),
        (OLDER_THAN_A_YEAR, ("fractional",)),
        (ALL_SUCCEEDED, ("big", "plain")),
        (PROCESSING, ()),
        (PARTIAL, ()),
        (PARTLY_SUCCEEDED, ()),
        (ALL_FAILED, ()),
        (OLDER_THAN_A_YEAR, ()),
    )
)
GUARANTEED = len(FIXED_CASES)

WORK_MAX = 300  # seconds a job may take
RERUN_SHARE = 50
RERUN_PERIOD = 1800
# the first re-transcodes start once every job of the anchor time has ended, spread over a period
RERUN_START = WORK_MAX + 30


@dataclass(frozen=True)
class _Group:
    group_id: str
    templates: tuple[tuple[str, str, str], ...]  # (template id, definition, format)
    encrypted: bool
    watermarks: tuple[str, ...]


def hex_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def generate_videos(size: int, seed: int, anchor: int) -> tuple[list[Video], str]:
    """``size`` videos as of ``anchor`` (epoch seconds), plus an ID that is none of theirs."""
    rng = random.Random(seed)
    groups = [
        _Group(
            hex_id(rng),
            tuple((hex_id(rng), definition, fmt) for definition, fmt in jobs),
            encrypted,
            (hex_id(rng),) if watermarked else (),
        )
        for jobs, encrypted, watermarked in GROUP_SHAPES
    ]
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    videos: list[Video] = []
    seen: set[str] = set()
    for index in range(size):
        if index < GUARANTEED:
            kind, features = FIXED_CASES[index]
        else:
            kind = rng.choices(kinds, weights)[0]
            features = _random_features(rng)
        video = _video(rng, groups, kind, features, anchor)
        while video.video_id in seen:  # 2^-128 odds, but IDs must be unique
            video = _video(rng, groups, kind, features, anchor)
        seen.add(video.video_id)
        videos.append(video)
    missing = hex_id(rng)
    while missing in seen:
        missing = hex_id(rng)
    reruns = random.Random(f"reruns:{seed}")
    count = min(max(size - GUARANTEED, 0), size // RERUN_SHARE)
    for index in range(size - count, size):
        first = anchor + RERUN_START + reruns.randrange(RERUN_PERIOD)
        videos[index] = dataclasses.replace(videos[index], rerun=(first, RERUN_PERIOD))
    return videos, missing


def _random_features(rng: random.Random) -> frozenset[str]:
    features = set()
    if rng.random() < 0.02:
        features.add("fractional")
    if rng.random() < 0.08:
        features.add("FileSize")
    if rng.random() < 0.02:
        features.add("big")
    return frozenset(features)


def _pick_group(rng: random.Random, groups: list[_Group], features: frozenset[str]) -> _Group:
    fits = [
        (g, w)
        for g, w in zip(groups, GROUP_WEIGHTS, strict=True)
        if ("encrypted" not in features or g.encrypted)
        and ("plain" not in features or not g.encrypted)
        and ("watermark" not in features or g.watermarks)
        and ("big" not in features or any(t[1] == "4K" for t in g.templates))
    ]
    return rng.choices([g for g, _ in fits], [w for _, w in fits])[0]


def _video(
    rng: random.Random, groups: list[_Group], kind: str, features: frozenset[str], anchor: int
) -> Video:
    video_id = hex_id(rng)
    group = _pick_group(rng, groups, features)
    count = len(group.templates)
    media = rng.randint(2400, 7200) if "big" in features else rng.randint(8, 1800)
    fps = rng.choice(FRACTIONAL_FPS if "fractional" in features else INTEGER_FPS)
    portrait = rng.random() < 0.2
    size_key = "FileSize" if "FileSize" in features else "Filesize"
    works = [rng.randint(30, WORK_MAX) for _ in range(count)]

    if kind == PROCESSING:
        age = rng.randint(0, min(works) - 1)
    elif kind == PARTIAL:
        if max(works) - min(works) < 2:
            works[-1] = min(works) + rng.randint(20, 100)
        age = rng.randint(min(works) + 1, max(works) - 1)
    elif kind == OLDER_THAN_A_YEAR:
        age = rng.randint(YEAR_SECONDS + DAY, 900 * DAY)
    else:
        age = rng.randint(600, 360 * DAY)
    created = anchor - age

    if kind == ALL_FAILED:
        failing = set(range(count))
    elif kind == PARTLY_SUCCEEDED:
        failing = set(rng.sample(range(count), rng.randint(1, count - 1)))
    elif kind in (PROCESSING, PARTIAL):
        failing = {i for i in range(count) if rng.random() < 0.15}
    else:
        failing = set()

    jobs = []
    for i, (template_id, definition, fmt) in enumerate(group.templates):
        width, height, kbps = DEFINITIONS[definition]
        if portrait:
            width, height = height, width
        bitrate = int(kbps * rng.uniform(0.8, 1.1))
        filesize = int(bitrate * 125 * media * rng.uniform(0.97, 1.03)) + rng.randint(2_000, 90_000)
        stagger = 0 if kind in (PROCESSING, PARTIAL) else rng.randint(0, 3)
        jobs.append(
            Job(
                template_id=template_id,
                definition=definition,
                fmt=fmt,
                width=width,
                height=height,
                bitrate=bitrate,
                duration=media,
                fps=fps,
                filesize=filesize,
                size_key=size_key,
                encrypted=group.encrypted and fmt == "m3u8",
                watermarks=group.watermarks,
                start=created + stagger,
                work=works[i],
                error=rng.choice(ERRORS) if i in failing else None,
                fail_progress=rng.randint(0, 95) if i in failing else 0,
                omit=frozenset({"Fps"}) if "missing" in features and i == 0 else frozenset(),
            )
        )
    return Video(video_id, group.group_id, created, tuple(jobs))
