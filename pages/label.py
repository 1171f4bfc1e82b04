import getpass

import pandas as pd
import streamlit as st

from iconicity_core.dashboard import cache, labeller, page
from iconicity_core.dashboard.state import literal
from iconicity_core.io import labels
from iconicity_core.viz import overlays

KEYS = {"replica": "1", "partial": "2", "reinterpretation": "3", "miss": "4", "skip": "S"}

with page("Label") as ctx:
    st.caption(f"Labels go to `{labels.sidecar(ctx.db).name}` beside the database (never into it) and are read by "
               "`iconicity evaluate`, `iconicity calibrate` and the Thresholds page. Keys: 1 replica · 2 partial · "
               "3 reinterpretation · 4 miss · S skip.")
    who = st.text_input("Your name (recorded with each label)", value=st.session_state.get("label_who") or
                        getpass.getuser(), key="label_who")
    queue = labeller.session_queue(ctx)
    if st.session_state.get("label_error"):
        st.error(st.session_state["label_error"])
    for item, problem in labels.problems(ctx.db):
        st.warning(literal(f"{item}: {problem}"))
    done = st.session_state.setdefault("label_done", 0)
    if not queue:
        st.success("Nothing left to label with the current filters.")
    else:
        fid = queue[0]
        row = cache.patch_matches(*ctx.key, ctx.run_id, fid)[1]
        refs = cache.reference_images(*ctx.key, ctx.run_id, row["slug"])
        kept = list(refs[refs["kept"]]["file_id"])[:3]
        paths = cache.image_paths(*ctx.key, (fid, *kept))
        st.subheader(f"{literal(row['title'])} — {literal(row['model'])} ({done} labelled this session, "
                     f"{len(queue)} in the queue)")
        if row.get("label"):
            st.caption("The database already has a label for this image (hidden, so it cannot sway you); yours "
                       "will override it in evaluate / calibrate.")
        cols = st.columns(4)
        cols[0].image(overlays.tile(overlays.display_image(paths.get(fid)), 320),
                      caption=f"generated · {ctx.recognition} similarity {row['clip_sim']:.2f}", width="stretch")
        for c, r in zip(cols[1:], kept, strict=False):
            c.image(overlays.tile(overlays.display_image(paths.get(r)), 320), caption="reference", width="stretch")
        buttons = st.columns(3) + st.columns(3)[:2]       # three and two: every label whole at 1280 px
        for c, (label, key) in zip(buttons, KEYS.items(), strict=True):
            c.button(f"{label} ({key})", key=f"lab_{label}", shortcut=key, on_click=labeller.label_and_next,
                     args=(ctx, fid, label), width="stretch")
    with st.expander("Import / export"):
        st.download_button("labels as CSV (image,label)", labels.export_csv(ctx.db), "labels.csv", "text/csv",
                           key="lab_export")
        up = st.file_uploader("add labels from a CSV (image,label)", type=["csv"], key="lab_import")
        if up is not None and st.button("import", key="lab_do_import"):
            n, problems = labeller.import_labels(ctx, up.getvalue(), up.name, who)
            st.success(f"{n} label(s) imported.")
            if problems:
                st.warning(f"{len(problems)} row(s) skipped:")
                st.dataframe(pd.DataFrame(problems, columns=["row", "problem"]), hide_index=True)
