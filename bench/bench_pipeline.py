"""Benchmark: extract + features against ffmpeg's own decode of the window, on a 22-minute H.264/AAC episode.

    .venv/bin/python bench/bench_pipeline.py [--window 480] [--repeat 5] [--write-docs]

The episode is built once from real recordings in Debian packages (orchestral score from singularity-music
under recorded English prompts from asterisk-core-sounds-en-wav), 640×360 H.264 at 25 fps with 48 kHz
stereo AAC at 128 kbit/s, and cached in bench/out/. Every figure is the median of ``--repeat`` runs taken in
one process, interleaved, so that the ratios compare like with like on a shared machine. The target of the
foundation issue: extract + features ≤ 1.5 × the floor (ffmpeg decoding the window alone).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from common import floor_command, machine  # noqa: E402
from introdetect_eval.debsources import package_root  # noqa: E402

from introdetect.batch import extract_one, features_one  # noqa: E402
from introdetect.features.compute import compute_features  # noqa: E402
from introdetect.media import FFMPEG_QUIET, extract_audio, read_wav  # noqa: E402
from introdetect.settings import AudioOptions, FeatureOptions  # noqa: E402

OUT = REPO / "bench" / "out"
EPISODE_S = 22 * 60
DOCS = REPO / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- bench_pipeline:begin -->", "<!-- bench_pipeline:end -->"


def build_episode(path: Path) -> Path:
    if path.exists():
        return path
    music = sorted((package_root("singularity-music") / "usr/share/games/singularity/music").glob("*.ogg"))
    prompts = sorted(
        (package_root("asterisk-core-sounds-en-wav") / "usr/share/asterisk/sounds/en_US_f_Allison").glob("*.wav")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        music_list, speech_list = Path(tmp) / "music.txt", Path(tmp) / "speech.txt"
        music_list.write_text("".join(f"file '{p}'\n" for p in music))
        speech_list.write_text("".join(f"file '{p}'\n" for p in prompts[:400]))
        cmd = [
            *FFMPEG_QUIET,
            "-y",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(music_list),
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(speech_list),
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=640x360:rate=25:duration={EPISODE_S}",
            "-filter_complex",
            "[0:a]aresample=48000,volume=0.35[m];[1:a]aresample=48000,apad[s];"
            "[m][s]amix=inputs=2:duration=first:normalize=0,aformat=channel_layouts=stereo[a]",
            "-map",
            "2:v",
            "-map",
            "[a]",
            "-t",
            str(EPISODE_S),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "28",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-ar",
            "48000",
            str(path),
        ]
        subprocess.run(cmd, check=True)
    return path


def timed(fn) -> float:  # noqa: ANN001
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def floor_decode(episode: Path, window_s: float) -> None:
    """ffmpeg decoding the window of the first audio stream, output discarded: nothing of ours."""
    subprocess.run(floor_command(episode, window_s), check=True)


def floor_resample(episode: Path, window_s: float) -> None:
    """The same decode plus the downmix and resampling to the project's 22.05 kHz mono, output discarded."""
    subprocess.run(floor_command(episode, window_s, "-ac", "1", "-ar", "22050"), check=True)


def librosa_features(y: np.ndarray) -> None:
    import librosa

    sr, hop = 22050, 1024
    S = np.abs(librosa.stft(y, n_fft=2048, hop_length=hop))
    librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, hop_length=hop)
    librosa.feature.spectral_contrast(S=S, sr=sr)
    librosa.feature.rms(S=S)
    librosa.feature.spectral_centroid(S=S, sr=sr)
    librosa.feature.spectral_bandwidth(S=S, sr=sr)
    librosa.feature.spectral_flatness(S=S)
    librosa.feature.chroma_stft(S=S**2, sr=sr, tuning=0.0)
    onset = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop)
    librosa.feature.tempo(onset_envelope=onset, sr=sr, hop_length=hop, aggregate=None)
    librosa.beat.beat_track(onset_envelope=onset, sr=sr, hop_length=hop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--window", type=float, default=AudioOptions().window_s)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-librosa", action="store_true", help="skip the librosa comparison")
    parser.add_argument("--write-docs", action="store_true", help=f"update the section in {DOCS.relative_to(REPO)}")
    args = parser.parse_args()

    episode = build_episode(OUT / "episode_22min.mp4")
    options = AudioOptions(window_s=args.window)
    with tempfile.TemporaryDirectory(prefix="introdetect-bench-") as tmp:
        run_benchmark(args, episode, options, Path(tmp))


def run_benchmark(args: argparse.Namespace, episode: Path, options: AudioOptions, work: Path) -> None:
    wav = work / "episode.wav"
    feat_dir = work / "features"
    feat_dir.mkdir()

    # warm-up: page cache, FFT plans, lazy imports
    floor_decode(episode, args.window)
    extract_audio(episode, wav, options)
    y, _ = read_wav(wav)
    compute_features(y)

    fused_audio, fused_feats, video_feats = work / "fused-audio", work / "fused-features", work / "video-features"
    for folder in (fused_audio, fused_feats, video_feats):
        folder.mkdir()
    fo = FeatureOptions()
    steps = {
        "floor": lambda: floor_decode(episode, args.window),
        "floor_resample": lambda: floor_resample(episode, args.window),
        "extract": lambda: extract_audio(episode, wav, options),
        "features": lambda: features_one("episode", wav, feat_dir, fo, options),
        "one_pass": lambda: extract_one("episode", episode, fused_audio, options, fused_feats, fo),
        "from_video": lambda: features_one("episode", episode, video_feats, fo, options),
        "compute": lambda: compute_features(y),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.repeat):
        for name, step in steps.items():
            times[name].append(timed(step))
    med = {k: statistics.median(v) for k, v in times.items()}
    two_commands = (med["extract"] + med["features"]) / med["floor"]
    ratio = med["one_pass"] / med["floor"]

    librosa_s = None
    if not args.no_librosa:
        try:
            librosa_features(y[: 22050 * 10])  # numba compilation outside the timing
            librosa_s = statistics.median(timed(lambda: librosa_features(y)) for _ in range(max(1, args.repeat // 2)))
        except ImportError:
            print("librosa not installed: skipping the comparison (pip install -e '.[test]')")

    rows = [
        ("ffmpeg decode of the window (floor)", med["floor"], 1.0),
        (
            "ffmpeg decode + downmix + resample to 22.05 kHz, discarded",
            med["floor_resample"],
            med["floor_resample"] / med["floor"],
        ),
        ("`extract`: decode + resample + WAV", med["extract"], med["extract"] / med["floor"]),
        ("`features` on that WAV: read + compute + save .npz", med["features"], med["features"] / med["floor"]),
        ("  compute_features alone, samples in memory", med["compute"], med["compute"] / med["floor"]),
        ("`extract` then `features` (two commands, two passes)", med["extract"] + med["features"], two_commands),
        ("**`extract --features`: WAV and features from one decode**", med["one_pass"], ratio),
        ("`features VIDEO`: features from one decode, no WAV", med["from_video"], med["from_video"] / med["floor"]),
    ]
    if librosa_s is not None:
        rows.append(("librosa computing the same features (reference)", librosa_s, librosa_s / med["floor"]))
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run {date} on {machine()}.",
        f"Command: `.venv/bin/python bench/bench_pipeline.py --window {args.window:g} --repeat {args.repeat}`; "
        f"episode: 22 min, 640×360 H.264 25 fps + AAC 48 kHz stereo 128 kbit/s; window {args.window:g} s; "
        f"median of {args.repeat} interleaved runs.",
        "",
        "| step | seconds | × floor |",
        "|---|---:|---:|",
        *[f"| {name} | {secs:.3f} | {r:.2f} |" for name, secs, r in rows],
        "",
        f"Target extract + features ≤ 1.5 × floor: **{ratio:.2f}** in one pass (`extract --features`), "
        f"{'met' if ratio <= 1.5 else 'NOT met'}; as two separate commands {two_commands:.2f}.",
    ]
    lines.append(
        f"Against ffmpeg's own decode-and-resample (the least any tool must do to get 22.05 kHz mono), "
        f"one pass is {med['one_pass'] / med['floor_resample']:.2f}×."
    )
    if librosa_s is not None:
        lines.append(f"compute_features is {librosa_s / med['compute']:.1f}× faster than librosa on the same features.")
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        doc = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
        block = f"{BEGIN}\n{text}\n{END}"
        if BEGIN in doc:
            doc = doc[: doc.index(BEGIN)] + block + doc[doc.index(END) + len(END) :]
        else:
            doc += "\n## Extract and features against ffmpeg's decode (foundation)\n\n" + block + "\n"
        DOCS.write_text(doc)
        print(f"updated {DOCS}")


if __name__ == "__main__":
    main()
