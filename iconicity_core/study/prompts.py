"""`iconicity prompts perturb`: prompt variants per reference.

* ``title`` — the title unchanged.
* ``synonym`` — every content word of the title replaced by its first WordNet synonym (WordNet order,
  so the choice is deterministic and recorded); titles with no synonym stay unchanged.
* ``description`` — a literal visual description from a user CSV (written by hand or by an LLM
  outside this tool).

WordNet is read with NLTK's reader over Debian's ``wordnet-base`` files (``/usr/share/wordnet``).
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

from ..io.atomic import write_csv
from ..io.dataset import norm_slug

WORDNET_DIR = Path("/usr/share/wordnet")
STOPWORDS = frozenset("""a an the of in on at to for from by with and or but nor as is are was were be been
it its this that these those his her their our your my i you he she we they not no de la le les el los las
der die das du des un une y e et o""".split())
# WordNet 3.0 lexicographer files (Debian ships the database without this small index).
LEXNAMES = """adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body
noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location noun.motive
noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process noun.quantity noun.relation
noun.shape noun.state noun.substance noun.time verb.body verb.change verb.cognition verb.communication
verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion verb.perception
verb.possession verb.social verb.stative verb.weather adj.ppl""".split()
_POS_ID = {"adj": 3, "adv": 4, "noun": 1, "verb": 2}


def load_wordnet(root: str | Path = WORDNET_DIR, stage: str | Path | None = None):
    """NLTK's WordNet reader over the files in ``root``, copied once into a cache folder together with
    the small lexnames index NLTK needs (NLTK refuses files that resolve outside its corpus root)."""
    import shutil

    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    root = Path(root)
    if not (root / "index.noun").is_file():
        raise FileNotFoundError(f"no WordNet database in {root} — install Debian's wordnet-base "
                                "(apt-get install wordnet-base) or pass --wordnet DIR")
    stage = Path(stage) if stage else Path.home() / ".cache" / "iconicity" / "wordnet"
    stage.mkdir(parents=True, exist_ok=True)
    for f in root.iterdir():
        dest = stage / f.name
        if f.is_file() and (not dest.exists() or dest.stat().st_size != f.stat().st_size):
            shutil.copyfile(f, dest)
    (stage / "lexnames").write_text("".join(f"{i:02d}\t{n}\t{_POS_ID[n.split('.')[0]]}\n"
                                            for i, n in enumerate(LEXNAMES)))
    if str(stage) not in nltk.data.path:
        nltk.data.path.append(str(stage))

    class EnglishWordNet(WordNetCorpusReader):
        def map_wn(self, version="wordnet"):
            return None          # the mapping to NLTK's own copy serves multilingual data only

    return EnglishWordNet(str(stage), None)


def synonym_prompt(title: str, wn) -> tuple[str, list[tuple[str, str]]]:
    """Replace each content word by its first WordNet synonym; returns the prompt and the replacements.

    >>> class FakeWN:   # WordNet order: synsets, then lemmas
    ...     def synsets(self, w):
    ...         return {"night": [FakeSyn(["night", "nighttime", "dark"])]}.get(w, [])
    >>> class FakeSyn:
    ...     def __init__(self, names): self.names = names
    ...     def lemmas(self): return [type("L", (), {"name": (lambda s, n=n: n)})() for n in self.names]
    >>> synonym_prompt("The Starry Night", FakeWN())
    ('The Starry nighttime', [('Night', 'nighttime')])
    """
    out, changes = [], []
    for token in re.split(r"(\W+)", title):
        word = token.lower()
        if not token or not token.isalpha() or len(word) < 3 or word in STOPWORDS:
            out.append(token)
            continue
        choice = next((lem.name().replace("_", " ") for s in wn.synsets(word) for lem in s.lemmas()
                       if lem.name().lower() != word and lem.name().replace("_", " ").lower() != word), None)
        if choice is None:
            out.append(token)
        else:
            out.append(choice)
            changes.append((token, choice))
    return "".join(out), changes


def perturb(dataset: str | Path, variants: tuple[str, ...] = ("title", "synonym"), descriptions: Path | None = None,
            description_column: str = "description", wordnet_dir: str | Path = WORDNET_DIR) -> Path:
    """Write ``DATASET/prompts.csv`` (slug, variant, prompt, detail) from references.csv."""
    ds = Path(dataset)
    with open(ds / "references.csv", newline="", encoding="utf-8-sig") as f:
        refs = [(norm_slug(r["slug"]), r["title"].strip()) for r in csv.DictReader(f)]
    desc: dict[str, str] = {}
    if "description" in variants:
        if descriptions is None:
            raise ValueError("the description variant needs --descriptions CSV (columns slug,"
                             f"{description_column})")
        with open(descriptions, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if description_column not in (reader.fieldnames or []):
                raise ValueError(f"{descriptions} has no column {description_column!r}")
            desc = {norm_slug(r["slug"]): r[description_column].strip() for r in reader}
    wn = load_wordnet(wordnet_dir) if "synonym" in variants else None
    rows = []
    for slug, title in refs:
        for v in variants:
            if v == "title":
                rows.append((slug, v, title, ""))
            elif v == "synonym":
                prompt, changes = synonym_prompt(title, wn)
                rows.append((slug, v, prompt, "; ".join(f"{a}->{b}" for a, b in changes) or "no synonym: title kept"))
            elif v == "description":
                if desc.get(slug):
                    rows.append((slug, v, desc[slug], f"from {Path(str(descriptions)).name}"))
            else:
                raise ValueError(f"unknown variant {v!r}: title, synonym or description")
    out = ds / "prompts.csv"
    return write_csv(out, ["slug", "variant", "prompt", "detail"], rows)
