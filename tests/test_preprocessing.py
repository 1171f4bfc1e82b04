"""What the models see: every preprocessing path equals its reference (bit for bit where it is the same
arithmetic, within a stated tolerance where it is not), QuickGELU with OpenAI's weights, decoding and file
selection as the released scripts under `--decode authors`, shared generation roots, the authors' export."""
from __future__ import annotations

import csv
import io
import json
import logging
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import BASELINE, cli, save, texture
from PIL import Image

from iconicity_core.core.grid import cell_boxes

RNG = np.random.default_rng(0)
SIZES = [(300, 460), (460, 300), (517, 389), (224, 224), (225, 801)]


def _images():
    """Pixel noise: the hardest case for comparing resampling kernels."""
    return [Image.fromarray(RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in SIZES]


def _photos():
    """Smooth images (what photographs look like to a resampling kernel), non-square."""
    return [texture(40 + i, 512).resize((w, h)) for i, (w, h) in enumerate(SIZES)]


def test_hf_crop_equals_hugging_faces_clip_processor_to_the_pixel():
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    from iconicity_core.embedders.clip import hf_resize_crop, to_uint8_tensor

    proc = CLIPImageProcessorPil()
    mean, std = torch.tensor(proc.image_mean).view(1, 3, 1, 1), torch.tensor(proc.image_std).view(1, 3, 1, 1)
    for im in _images():
        want = torch.tensor(np.asarray(proc(images=im, return_tensors="np")["pixel_values"]))
        got = to_uint8_tensor(hf_resize_crop(im, 224))[None].float().div(255).sub(mean).div(std)
        assert torch.equal(got, want), im.size


def test_open_clip_path_equals_open_clips_transform_and_differs_from_hf_by_the_crop(tiny_models):
    from iconicity_core.embedders import load_global
    from iconicity_core.embedders.clip import OpenClipEmbedder

    e = load_global("ViT-S-32", str(tiny_models["clip"]), resize="pil")
    fast = load_global("ViT-S-32", str(tiny_models["clip"]))              # the CPU default: torch's uint8 kernel
    import open_clip

    _, _, transform = open_clip.create_model_and_transforms("ViT-S-32", pretrained=None)
    hf = OpenClipEmbedder("ViT-S-32", str(tiny_models["clip"]), preprocess="hf")
    differ = 0
    for im in _images():
        got = e.prepare(im)[None].float().div(255).sub(e.mean).div(e.std)
        assert got.dtype == torch.float32
        assert e.prepare(im).dtype == torch.uint8
        assert torch.equal(got[0], transform(im)), im.size
        differ += not torch.equal(e.prepare(im), hf.prepare(im))
        d = (fast.prepare(im).int() - e.prepare(im).int()).abs()
        assert int(d.max()) <= 1, im.size
        assert float((d > 0).float().mean()) < 0.01, im.size
    assert differ >= 2                                   # round vs floor: one pixel apart on odd margins
    assert hf.info.key.endswith(":hf-crop")
    assert e.info.key != hf.info.key
    assert fast.info.key.endswith(":u8")
    assert hf.resize == "pil"                                                  # the authors' crop stays exact
    v = e.embed([_images()[0]])
    assert v.shape[0] == 1
    assert abs(float(np.linalg.norm(v[0])) - 1) < 1e-5


def _old_squash(emb, image):
    """The cell preprocessing before 0.2.0, copied as the reference: float cells, torch bilinear antialias."""
    import torch.nn.functional as F

    a = torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0).permute(2, 0, 1).unsqueeze(0)
    mean, std = emb.mean.cpu(), emb.std.cpu()
    return torch.cat([(F.interpolate(a[:, :, t:b, l:r], size=emb.input_size, mode="bilinear", antialias=True,
                                     align_corners=False) - mean) / std
                      for l, t, r, b in cell_boxes(image.width, image.height, emb.rows, emb.cols)])


def test_cell_paths_torch_is_the_old_arithmetic_timm_is_exact_uint8_is_close(tiny_models):
    from timm.data import create_transform

    from iconicity_core.embedders import load_cells

    d = str(tiny_models["dino"])
    torch_path, pil_path = load_cells(d, resize="torch"), load_cells(d, resize="uint8")
    timm_path = load_cells(d, cell_preprocess="center-crop", cell_size=256)
    ref = create_transform(input_size=(3, 256, 256), interpolation="bicubic", crop_pct=1.0, crop_mode="center")
    worst = 0.0
    for im in _images():
        old = _old_squash(torch_path, im)
        new = torch_path._torch_resized(torch_path.prepare(im))
        assert torch.equal(new, old), im.size                                 # the arithmetic of 0.1.x, bit for bit
        pil = pil_path._to_model_input(pil_path.prepare(im))
        worst = max(worst, float((pil - old).abs().mean()))
        cells = [im.crop(b) for b in cell_boxes(im.width, im.height, 4, 4)]
        want = torch.stack([ref(c) for c in cells])
        assert torch.equal(timm_path._to_model_input(timm_path.prepare(im)), want), im.size
        assert all(p.dtype == torch.uint8 for p in (pil_path.prepare(im), timm_path.prepare(im)))
    assert worst < 0.01, worst            # stated tolerance: mean |Δ| of the normalised input < 0.01 (rounding: 1/255/std)
    one = _images()[0]
    u8 = pil_path.prepare(one).float()
    ref = _old_squash(torch_path, one) * torch_path.std.cpu() + torch_path.mean.cpu()
    assert float((u8 / 255 - ref).abs().max()) <= 1.01 / 255                 # within one grey level of the float path
    assert torch_path.info.key.endswith("crop:4x4")
    assert pil_path.info.key.endswith(":u8")
    a, b = torch_path.embed_cells(_photos()), pil_path.embed_cells(_photos())
    cos = (a * b).sum(-1)
    assert cos.min() > 0.99, cos.min()                 # on smooth images the features agree closely


def test_token_mode_paths(tiny_models):
    from iconicity_core.embedders import load_cells

    d = str(tiny_models["dino"])
    t, p = load_cells(d, "token", resize="torch"), load_cells(d, "token", resize="uint8")
    a, b = t.embed_cells(_photos()), p.embed_cells(_photos())
    assert a.shape == b.shape == (5, 16, 32)
    assert (a * b).sum(-1).min() > 0.99


def test_quick_gelu_for_every_pretrained_tag_that_was_trained_with_it():
    import open_clip

    from iconicity_core.embedders.clip import quick_gelu_for

    pairs = open_clip.list_pretrained()
    forced = [(m, t) for m, t in pairs if quick_gelu_for(m, t)]
    want = [(m, t) for m, t in pairs if open_clip.get_pretrained_cfg(m, t).get("quick_gelu")
            and "quickgelu" not in m.lower()]
    assert forced == want
    assert ("ViT-B-32", "openai") in forced
    assert ("ViT-B-16", "openai") in forced


@pytest.mark.slow
def test_openai_weights_load_with_quick_gelu_and_no_mismatch_warning(tmp_path, monkeypatch, caplog):
    """The paper preset's ViT-B-32 + `openai`, loaded through the user-facing loader from an offline Hub cache
    holding random weights under the real name: QuickGELU, recorded in the key; open_clip's mismatch warning
    is treated as an error."""
    import huggingface_hub.constants as hub
    import open_clip
    from open_clip.transformer import QuickGELU

    from iconicity_core.testing import install_random_open_clip_tag

    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))     # read at each download call
    install_random_open_clip_tag(tmp_path / "hf", "ViT-B-32", "openai")
    from iconicity_core.embedders import load_global

    def mismatch(fn) -> bool:
        caplog.clear()
        with warnings.catch_warnings(record=True) as w, caplog.at_level(logging.WARNING):
            warnings.simplefilter("always")
            out = fn()
        said = [str(x.message) for x in w] + [r.getMessage() for r in caplog.records]
        return out, any("QuickGELU" in m for m in said)

    e, warned = mismatch(lambda: load_global("ViT-B-32", "openai"))
    assert not warned
    assert any(isinstance(m, QuickGELU) for m in e.model.visual.modules())
    assert e.info.key == "open_clip:ViT-B-32:openai:quickgelu:u8"
    assert e.info.extra["activation"] == "quickgelu"
    _, warned = mismatch(lambda: open_clip.create_model_and_transforms("ViT-B-32", pretrained="openai"))   # 0.1.x
    assert warned                                                                 # the check can fail


def test_a_run_made_with_gelu_on_openai_weights_is_flagged(tmp_path):
    from iconicity_core import db
    from iconicity_core.db.runs import warnings_for

    rec = {"kind": "score", "clip_key": "open_clip:ViT-B-32:openai", "clip_info": {"weights": "openai", "extra": {}}}
    assert any("QuickGELU" in w for w in warnings_for(rec))
    ok = {"kind": "score", "clip_key": "open_clip:ViT-B-32:openai:quickgelu",
          "clip_info": {"weights": "openai", "extra": {"activation": "quickgelu"}}}
    assert warnings_for(ok) == []
    assert db is not None


# -- decoding and file selection as the released scripts ------------------------------------------------
def _edge_case_dataset(root):
    """The authors' layout with every decode edge case of the parity review."""
    refs, gen = root / "refs", root / "gen"
    save(texture(1, 200), refs / "Great Wave" / "b.png")
    save(texture(2, 200), refs / "Great Wave" / "a.webp")         # the first by name: the scripts' paths[0]
    save(texture(3, 160), refs / "Great Wave" / "c.jpg")          # .jpg leads the scripts' EXTS, which is a set
    rgba = Image.fromarray(np.concatenate([np.asarray(texture(4, 128)), np.full((128, 128, 1), 60, np.uint8)], -1), "RGBA")
    g = gen / "great_wave"
    save(rgba, g / "rgba.png")
    exif = texture(5, 128).resize((160, 128))
    ex = Image.Exif()
    ex[0x0112] = 6                                                   # rotate 90°
    save(exif, g / "exif.jpg", exif=ex.tobytes())
    sixteen = (np.asarray(texture(6, 128).convert("L"), np.uint16) * 257).astype(np.uint16)
    save(Image.fromarray(sixteen), g / "sixteen.png")
    for ext in ("gif", "tif", "jfif"):
        save(texture(7, 96).convert("RGB"), g / f"ignored.{ext}", format={"gif": "GIF", "tif": "TIFF", "jfif": "JPEG"}[ext])
    save(texture(10, 96), g / "kept.TIFF")                          # .tiff is theirs (any case), .tif is not
    save(texture(8, 96), g / ".hidden.png")
    save(texture(9, 96), g / "sub" / "nested.png")
    with open(root / "prompts.csv", "w", newline="") as f:
        csv.writer(f).writerows([["label_clean", "label"], ["Great Wave", "The Great Wave"]])
    return refs, gen


def _files(database):
    from iconicity_core import db

    con = db.connect(database, read_only=True)
    try:
        return con.execute("SELECT role, relpath FROM files ORDER BY role, relpath").fetchall()
    finally:
        con.close()


def test_decode_authors_selects_and_decodes_files_as_the_scripts(tmp_path):
    refs, gen = _edge_case_dataset(tmp_path)
    careful, authors = tmp_path / "careful.duckdb", tmp_path / "authors.duckdb"
    args = ["--authors-refs", refs, "--authors-gen", f"m={gen}", "--authors-prompts", tmp_path / "prompts.csv",
            "--authors-kind", "static"]
    cli("score", "--db", careful, *args, *BASELINE)
    cli("score", "--db", authors, *args, *BASELINE, "--decode", "authors")
    gens = lambda d: sorted(r for role, r in _files(d) if role == "generation")
    refs_of = lambda d: sorted(r for role, r in _files(d) if role == "reference")
    assert gens(careful) == ["great_wave/exif.jpg", "great_wave/ignored.gif", "great_wave/ignored.jfif",
                             "great_wave/ignored.tif", "great_wave/kept.TIFF", "great_wave/rgba.png",
                             "great_wave/sixteen.png", "great_wave/sub/nested.png"]
    assert gens(authors) == ["great_wave/.hidden.png", "great_wave/exif.jpg", "great_wave/kept.TIFF",
                             "great_wave/rgba.png", "great_wave/sixteen.png"]
    assert refs_of(careful) == ["Great Wave/a.webp"]
    assert refs_of(authors) == ["Great Wave/a.webp"]
    from iconicity_core.io.images import load_rgb

    data = (gen / "great_wave" / "rgba.png").read_bytes()
    assert load_rgb(data, decode="authors").getpixel((3, 3)) == Image.open(gen / "great_wave" / "rgba.png").convert("RGB").getpixel((3, 3))
    assert load_rgb(data).getpixel((3, 3)) != load_rgb(data, decode="authors").getpixel((3, 3))   # over white
    assert load_rgb((gen / "great_wave" / "exif.jpg").read_bytes(), decode="authors").size == (160, 128)
    assert load_rgb((gen / "great_wave" / "exif.jpg").read_bytes()).size == (128, 160)
    s16 = (gen / "great_wave" / "sixteen.png").read_bytes()
    assert np.asarray(load_rgb(s16, decode="authors")).mean() > np.asarray(load_rgb(s16)).mean() + 50   # clipped white
    runs = json.loads(cli("runs", "--db", authors, "--format", "json"))["rows"]
    key = next(r for r in runs if r["kind"] == "score")["clip_key"]
    assert key.endswith(":decode-authors")                       # never shares vectors with a careful run


def _scan(root, layout, refs_of_work, kind="static"):
    """Scan a dataset with one work whose reference folder holds ``refs_of_work`` (names), in the standard or
    the authors' layout, with ``--decode authors``: the reference files and the dataset's problems."""
    from helpers import write_refs_csv

    from iconicity_core.io.dataset import scan_authors_layout, scan_dataset

    base = root / "references" if layout == "design" else root / "refs"
    for i, name in enumerate(refs_of_work):
        save(texture(i + 1, 48), base / "work" / name, **({"format": "TIFF"} if name.lower().endswith(".tiff") else {}))
    gen = root / "generations" / "m" if layout == "design" else root / "gen"
    save(texture(99, 48), gen / "work" / "g.png")
    if layout == "design":
        write_refs_csv(root, [{"slug": "work", "title": "Work", "kind": kind}])
        ds = scan_dataset(root, decode="authors")
    else:
        (root / "prompts.csv").write_text("label_clean\nwork\n")
        ds = scan_authors_layout(base, {"m": gen}, root / "prompts.csv", kind, decode="authors")
    return [f.relpath.split("/")[-1] for f in ds.files if f.role == "reference"], ds.problems


@pytest.mark.parametrize("layout", ["design", "authors"])
@pytest.mark.parametrize(("names", "first"), [(["b.png", "a.jpg"], "a.jpg"), ([".h.png", "a.png"], ".h.png"),
                                          (["still.jpg", "poster.png"], "poster.png"), (["a.png", "B.png"], "B.png"),
                                          (["a.tif", "z.tiff"], "z.tiff")])
def test_a_static_work_uses_its_first_file_by_name_as_the_scripts(tmp_path, layout, names, first):
    """``load_first_ref_image`` takes ``paths[0]`` of the sorted listing: by name as Python sorts (hidden and
    upper-case names first), whatever the extension; ``.tif`` is not listed, ``.tiff`` is."""
    refs, _ = _scan(tmp_path, layout, names)
    assert refs == [first]
    refs, _ = _scan(tmp_path / "dyn", layout, names, kind="dynamic")          # a dynamic work lists them all
    assert refs == sorted(n for n in names if not n.endswith(".tif"))


def test_folders_with_the_same_slug_use_the_last_under_authors_decoding(tmp_path):
    """The scripts' ``index_slug_dirs`` maps each normalised slug to the last of its folders by name."""
    from iconicity_core.io.dataset import scan_authors_layout

    save(texture(1, 48), tmp_path / "refs" / "Great Wave" / "a.png")
    save(texture(2, 48), tmp_path / "refs" / "great_wave" / "b.png")
    for d in ("Great Wave", "great_wave"):
        save(texture(3, 48), tmp_path / "gen" / d / f"{d[0]}.png")
    (tmp_path / "prompts.csv").write_text("label_clean\ngreat_wave\n")
    for decode, want in (("authors", ["great_wave/b.png"]), ("careful", ["Great Wave/a.png"])):
        ds = scan_authors_layout(tmp_path / "refs", {"m": tmp_path / "gen"}, tmp_path / "prompts.csv", "static",
                                 decode=decode)
        assert [f.relpath for f in ds.files if f.role == "reference"] == want
        gens = sorted(f.relpath for f in ds.files if f.role == "generation")
        assert gens == (["great_wave/g.png"] if decode == "authors" else ["Great Wave/G.png", "great_wave/g.png"])
        assert any("all read as slug" in m and ("only the last" in m) == (decode == "authors") for _, m in ds.problems)


def test_tiff_files_are_used_and_the_k_gen_window_counts_every_listed_file(tmp_path):
    """Under ``--preset authors``: a dynamic reference in TIFF is kept and matched, TIFF generations are scored,
    and the first 50 generations of a work by name are its first 50 listed files — a TIFF and an undecodable
    file among them count (the scripts' ``list_images(...)[:k]``, load failures skipped afterwards)."""
    from helpers import write_refs_csv

    root = tmp_path / "ds"
    root.mkdir()
    write_refs_csv(root, [{"slug": "mona", "title": "Mona", "kind": "static"},
                          {"slug": "film", "title": "Film", "kind": "dynamic"}])
    mona, film = texture(1, 64), texture(2, 64)
    save(mona, root / "references" / "mona" / "mona.png")
    save(film, root / "references" / "film" / "a.tiff", format="TIFF")
    save(texture(3, 64), root / "references" / "film" / "b.png")
    g = root / "generations" / "m"
    save(film, g / "film" / "copy.tiff", format="TIFF")
    for i in range(48):
        save(texture(100 + i, 32), g / "mona" / f"g{i:02d}.png")
    save(mona, g / "mona" / "g48.tiff", format="TIFF")
    (g / "mona" / "g49_bad.png").write_bytes(b"not an image")
    for i in (50, 51):
        save(texture(100 + i, 32), g / "mona" / f"g{i}.png")
    database = tmp_path / "k.duckdb"
    out = json.loads(cli("score", root, "--db", database, *BASELINE, "--preset", "authors", "--cell-preprocess",
                         "squash", "--format", "json"))
    assert any(item.endswith("g49_bad.png") for item, _ in ((e["item"], e["message"]) for e in out["errors"]))
    img = pd.read_csv(io.StringIO(cli("metrics", "--db", database, "--by", "image"))).set_index("image")
    scored = sorted(i.rsplit("/", 1)[1] for i in img.index if "/mona/" in i)
    assert scored == [f"g{i:02d}.png" for i in range(48)] + ["g48.tiff"]          # g50, g51 are past the window
    assert img.loc["generations/m/mona/g48.tiff", "clip_sim"] > 0.9999
    assert img.loc["generations/m/film/copy.tiff", "clip_sim"] > 0.9999            # matched to the TIFF reference
    from iconicity_core import db

    con = db.connect(database, read_only=True)
    best = con.execute("""SELECT r.relpath FROM clip_sims c JOIN files f USING (file_id) JOIN files r
                          ON r.file_id = c.ref_file WHERE f.relpath = 'generations/m/film/copy.tiff'""").fetchone()[0]
    con.close()
    assert best == "references/film/a.tiff"


def test_two_models_reading_one_generation_folder_are_reported_and_both_scored(tmp_path):
    """The scripts' resume check is keyed on the image path alone, so a second model pointing at the same
    folder gets no rows there; we score both (a file's id includes its model) and say so under the preset."""
    refs, gen = tmp_path / "refs", tmp_path / "gen"
    save(texture(1, 64), refs / "mona" / "r.png")
    for i in range(2):
        save(texture(10 + i, 64), gen / "mona" / f"{i}.png")
    (tmp_path / "p.csv").write_text("label_clean\nmona\n")
    args = ["--authors-refs", refs, "--authors-gen", f"a={gen}", "--authors-gen", f"b={gen}", "--authors-prompts",
            tmp_path / "p.csv", "--authors-kind", "static", *BASELINE, "--format", "json"]
    for preset, said in (("authors", True), ("paper", False)):
        database = tmp_path / f"{preset}.duckdb"
        out = json.loads(cli("score", "--db", database, *args, "--preset", preset, "--cell-preprocess", "squash"))
        shared = [m for m in (p["message"] for p in out["problems"]) if "read the same generation folder" in m]
        assert bool(shared) is said
        assert (not said or "'a' and 'b'" in shared[0])
        img = pd.read_csv(io.StringIO(cli("metrics", "--db", database, "--by", "image")))
        assert img.groupby("model").size().to_dict() == {"a": 2, "b": 2}


def test_two_score_calls_sharing_a_generation_root_keep_every_row(tmp_path):
    """The authors' layout: static works, then dynamic ones, in two calls over one generation root."""
    refs, gen = tmp_path / "refs", tmp_path / "gen"
    for slug, seed in (("mona", 1), ("wave", 2)):
        save(texture(seed), refs / slug / "r.png")
        for i in range(3):
            save(texture(seed * 10 + i), gen / slug / f"{i}.png")
    for slug, seed in (("film", 3),):
        for j in range(2):
            save(texture(seed + 40 * j), refs / slug / f"r{j}.png")
        for i in range(4):
            save(texture(seed * 10 + i), gen / slug / f"{i}.png")
    for name, rows in (("static.csv", ["mona", "wave"]), ("dynamic.csv", ["film"])):
        with open(tmp_path / name, "w", newline="") as f:
            csv.writer(f).writerows([["label_clean"], *[[r] for r in rows]])
    database = tmp_path / "a.duckdb"
    for kind in ("static", "dynamic"):
        cli("score", "--db", database, "--authors-refs", refs, "--authors-gen", f"m={gen}", "--authors-prompts",
            tmp_path / f"{kind}.csv", "--authors-kind", kind, *BASELINE)
    img = pd.read_csv(io.StringIO(cli("metrics", "--db", database, "--by", "image")))
    assert img.groupby("slug").size().to_dict() == {"film": 4, "mona": 3, "wave": 3}
    out = tmp_path / "export"
    cli("export", "--db", database, "--out", out)
    assert len(pd.read_csv(out / "results_vr_static.csv")) == 6
    assert len(pd.read_csv(out / "results_vr_dynamic.csv")) == 4


def test_authors_export_writes_the_folder_name_as_slug_and_cra_pass(tmp_path):
    refs, gen = _edge_case_dataset(tmp_path)
    database = tmp_path / "e.duckdb"
    cli("score", "--db", database, "--authors-refs", refs, "--authors-gen", f"m={gen}", "--authors-prompts",
        tmp_path / "prompts.csv", "--authors-kind", "static", *BASELINE, "--preset", "authors",
        "--cell-preprocess", "squash")
    out = tmp_path / "x"
    cli("export", "--db", database, "--out", out, "--clip-tau", "0.0")
    cra = pd.read_csv(out / "results_cra_static.csv")
    assert set(cra["slug"]) == {"Great Wave"}
    assert set(cra["iconicity_slug"]) == {"great_wave"}
    assert "cra_pass" in cra
    assert cra["cra_pass"].all()
