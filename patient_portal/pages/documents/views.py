"""Pieces of the documents pages: upload panel, filters, the list, and the dialogs."""

from __future__ import annotations

from typing import Any

import reflex as rx

from patient_portal.components.feedback import error_callout, success_callout
from patient_portal.components.forms import (
    field_grid,
    form_field,
    primary_button,
    secondary_button,
    textarea_field,
)
from patient_portal.components.media import preview_image
from patient_portal.components.tables import empty_state, pagination
from patient_portal.domain.documents.filetypes import ACCEPT_ATTRIBUTE
from patient_portal.state.documents import (
    SORT_CHOICES,
    UPLOAD_DONE,
    UPLOAD_INPUT,
    UPLOAD_LIST,
    VERSION_INPUT,
    VERSION_LIST,
)
from patient_portal.state.documents import DocumentsState as D

TAP = "44px"
MUTED = rx.color("gray", 11)


def _label(text: str, field_id: str) -> rx.Component:
    return rx.el.label(rx.text(text, as_="span", weight="medium", size="2"), html_for=field_id)


def _choice_select(label: str, field_id: str, choices: Any, value: Any, on_change: Any, *, error: Any = "",
                   all_label: str = "") -> rx.Component:
    items = [rx.select.item(all_label, value="all")] if all_label else []
    return rx.vstack(
        _label(label, field_id),
        rx.select.root(
            rx.select.trigger(id=field_id, placeholder="Choose…", width="100%", min_height=TAP),
            rx.select.content(*items, rx.foreach(choices, lambda c: rx.select.item(c[1], value=c[0]))),
            value=value, on_change=on_change, size="3",
        ),
        rx.cond(error, rx.text(error, size="2", color=rx.color("red", 11), id=field_id + "-error")),
        spacing="1", width="100%", align="stretch",
    )


#: Hidden from sight but still focusable and announced (the label below is what people see and press).
_VISUALLY_HIDDEN = {"position": "absolute", "width": "1px", "height": "1px", "opacity": "0", "overflow": "hidden"}


def _file_picker(input_id: str, names_id: str, multiple: bool) -> rx.Component:
    """A drop zone whose "Choose files" button is the label of the (visually hidden) file input."""
    return rx.box(
        rx.vstack(
            rx.hstack(rx.icon("upload", size=20, color=rx.color("accent", 11)),
                      rx.text("Drop files here, or choose them" if multiple else "Drop the corrected file here, "
                              "or choose it", weight="medium"), align="center"),
            rx.text("PDF, PNG, JPEG, TIFF, HEIC, DICOM, plain text or CSV — up to ", D.max_text, " each.",
                    size="2", color=MUTED),
            rx.el.input(type="file", id=input_id, multiple=multiple, accept=ACCEPT_ATTRIBUTE,
                        custom_attrs={"data-names": names_id}, style=_VISUALLY_HIDDEN),
            rx.button(  # Radix's button look on the input's own label (asChild)
                rx.el.label(rx.icon("folder-open", size=18), "Choose files" if multiple else "Choose a file",
                            html_for=input_id),
                as_child=True, variant="soft", size="3", min_height=TAP, cursor="pointer",
            ),
            rx.text("No file chosen yet", id=names_id, size="2", color=MUTED, aria_live="polite"),
            spacing="2", align="start",
        ),
        custom_attrs={"data-dropzone": input_id},
        position="relative",
        border=f"2px dashed {rx.color('gray', 7)}",
        border_radius="var(--radius-3)",
        padding="1rem",
        width="100%",
        _focus_within={"outline": f"2px solid {rx.color('accent', 8)}", "outline_offset": "2px"},
    )


def _progress_list(list_id: str) -> rx.Component:
    return rx.el.ul(id=list_id, aria_live="polite", style={"padding": "0", "margin": "0", "width": "100%"})


def _fold(toggle_id: str, icon: str, label: rx.Component, body: rx.Component, *extra: rx.Component) -> rx.Component:
    """A native disclosure (details/summary): keyboard-operable, folded until opened, its content
    kept in the page (the upload script finds its inputs even while folded)."""
    return rx.el.details(
        rx.el.summary(
            rx.hstack(rx.icon(icon, size=18), label, *extra, rx.icon("chevron-down", size=18, color=MUTED),
                      align="center", spacing="2", min_height=TAP),
            id=toggle_id,
            style={"cursor": "pointer", "list_style": "none", "color": rx.color("accent", 11),
                   "&::-webkit-details-marker": {"display": "none"}},
        ),
        body,
        width="100%",
    )


def upload_panel() -> rx.Component:
    f, e = D.form, D.form_errors
    return rx.card(_fold(
        "doc-upload-toggle", "plus", rx.heading("Add documents", size="4", as_="h2"),
        rx.vstack(
            _file_picker(UPLOAD_INPUT, "doc-file-names", True),
            field_grid(
                _choice_select("Category", "doc-category", D.upload_choices, f["category"],
                               lambda v: D.set_form("category", v), error=e["category"]),
                form_field("Title", "doc-title", f["title"], lambda v: D.set_form("title", v), error=e["title"],
                           hint="Leave empty to use each file's name."),
                form_field("Date of service", "doc-date", f["service_date"], lambda v: D.set_form("service_date", v),
                           error=e["service_date"], type_="date"),
                form_field("Source or author", "doc-source", f["source"], lambda v: D.set_form("source", v),
                           error=e["source"], hint="For example the lab, hospital or doctor."),
            ),
            textarea_field("Note", "doc-note", f["note"], lambda v: D.set_form("note", v), error=e["note"]),
            rx.cond(
                D.can_hold,
                form_field("Hold until discussed — release on", "doc-hold", f["hold_until"],
                           lambda v: D.set_form("hold_until", v), error=e["hold_until"], type_="date",
                           hint="Optional. Until then the patient sees that the document exists and this date, "
                                "not its content."),
            ),
            primary_button("Upload", on_click=D.start_upload, type="button", id="doc-upload-submit"),
            _progress_list(UPLOAD_LIST),
            rx.el.button("Upload finished", id=UPLOAD_DONE, type="button", on_click=D.upload_finished,
                         tab_index=-1, aria_hidden="true", style={"display": "none"}),
            spacing="3", width="100%", padding_top="0.75rem",
        ),
    ), width="100%", id="doc-upload")


def filters() -> rx.Component:
    return _fold("doc-filter-toggle", "sliders-horizontal", rx.text("Filter and sort", weight="medium"), rx.vstack(
        rx.grid(
            _choice_select("Category", "doc-filter-category", D.filter_choices, D.f_category, D.set_category_filter,
                           all_label="All categories"),
            form_field("Source", "doc-filter-source", D.f_source, lambda v: D.set_filter_text("f_source", v)),
            form_field("From", "doc-filter-from", D.f_from, lambda v: D.set_filter_text("f_from", v), type_="date"),
            form_field("To", "doc-filter-to", D.f_to, lambda v: D.set_filter_text("f_to", v), type_="date"),
            _choice_select("Sort by", "doc-sort", [list(c) for c in SORT_CHOICES], D.sort, D.set_sort),
            columns=rx.breakpoints(initial="1", sm="2", lg="5"),
            spacing="3",
            width="100%",
        ),
        rx.hstack(
            primary_button("Apply filters", type="button", id="doc-filter-apply", on_click=D.apply_filters),
            secondary_button("Clear", type="button", on_click=D.clear_filters),
            rx.cond(D.is_admin, rx.el.label(rx.hstack(
                rx.switch(checked=D.show_removed, on_change=D.toggle_removed, id="doc-show-removed"),
                rx.text("Show removed documents", size="2"), align="center", min_height=TAP))),
            spacing="3", wrap="wrap", align="center",
        ),
        width="100%",
        spacing="3",
        padding_top="0.5rem",
        role="search",
        aria_label="Filter documents",
    ), rx.cond(D.filtered, rx.badge("Filtered", color_scheme="amber", id="doc-filtered")))


# The list's rows are the page's heaviest part: 25 of them, each re-rendered whenever the page, sort or
# filter changes (Next page's interaction-to-next-paint was 256 ms on desktop). So a row is kept lean:
# only the layout the viewport shows is rendered (the table from Radix's md breakpoint up, cards below
# it; not both with one hidden by CSS), and its styling comes from Radix props and the list's one style
# rule (no per-element css objects for Emotion to serialize on every render); unchanged rows are not
# rendered again when something else on the page changes (see _table_row).

#: Radix Themes' md breakpoint: the table from here up, cards below (a phone, a narrow tablet)
_WIDE_QUERY = "(min-width: 1024px)"
_wide = rx.Var(
    "docsWide", _var_type=bool,
    _var_data=rx.vars.VarData(
        hooks={
            "const [docsWide, setDocsWide] = useState(() => typeof window !== 'undefined' && "
            f"window.matchMedia('{_WIDE_QUERY}').matches);": None,
            f"useEffect(() => {{ const mq = window.matchMedia('{_WIDE_QUERY}'); "
            "const on = () => setDocsWide(mq.matches); on(); mq.addEventListener('change', on); "
            "return () => mq.removeEventListener('change', on); }, []);": None,
        },
        imports={"react": [rx.ImportVar(tag="useState"), rx.ImportVar(tag="useEffect")]},
    ),
)

#: The list's one style rule (tap targets of the row buttons, full-width cards), instead of a css
#: object on every row's elements.
_LIST_STYLE = {
    "& .doc-tap": {"min_height": TAP},
    "& .doc-more": {"min_height": TAP, "min_width": TAP},
    "& .doc-card": {"width": "100%"},
}


def _badges(row: Any) -> rx.Component:
    return rx.flex(
        rx.cond(row["by_patient"], rx.badge("Provided by patient", color_scheme="blue")),
        rx.cond(row["held"], rx.badge(rx.icon("clock", size=12), "Available from " + row["hold_until"].to(str),
                                      color_scheme="amber")),
        rx.cond(~row["held"].to(bool) & (row["hold_until"].to(str) != ""),
                rx.badge("Held from patient until " + row["hold_until"].to(str), color_scheme="amber")),
        rx.cond(row["version"].to(int) > 1, rx.badge("Version " + row["version"].to(str), color_scheme="gray")),
        rx.cond(row["removed"], rx.badge("Removed " + row["removed_at"].to(str), color_scheme="red")),
        spacing="1", wrap="wrap",
    )


def _title(row: Any) -> rx.Component:
    return rx.flex(
        rx.text(row["title"], weight="medium", class_name="doc-title"),
        _badges(row),
        rx.cond(row["removed"], rx.text("Reason: " + row["reason"].to(str), size="1", color_scheme="gray")),
        direction="column", spacing="1", align="start",
    )


def _more_menu(row: Any) -> rx.Component:
    item = rx.menu.item
    return rx.menu.root(
        rx.menu.trigger(rx.button(rx.icon("ellipsis", size=16), variant="ghost", class_name="doc-more",
                                  aria_label="More actions for " + row["title"].to(str))),
        rx.menu.content(
            item("Versions", on_click=D.open_versions(row["id"])),
            rx.cond(row["can_version"], item("Upload corrected file", on_click=D.open_dialog("new_version", row["id"]))),
            rx.cond(row["can_hold"], item("Hold until discussed…", on_click=D.open_dialog("hold", row["id"]))),
            rx.cond(row["can_restore"], item("Restore", on_click=D.restore(row["id"]))),
            rx.cond(row["can_delete"], item("Remove…", color_scheme="red",
                                            on_click=D.open_dialog("remove", row["id"]))),
            rx.cond(row["can_purge"], item("Purge for good…", color_scheme="red",
                                           on_click=D.open_dialog("purge", row["id"]))),
        ),
    )


def _actions(row: Any) -> rx.Component:
    return rx.cond(
        row["held"],
        rx.text("Your care team will go through this with you first.", size="2", color_scheme="gray"),
        rx.flex(
            rx.cond(row["previewable"] & ~row["removed"].to(bool),
                    rx.button(rx.icon("eye", size=16), "Preview", variant="soft",
                              on_click=D.open_preview(row["id"]), aria_label="Preview " + row["title"].to(str),
                              class_name="doc-preview doc-tap")),
            rx.button(rx.icon("download", size=16), "Download", variant="soft",
                      on_click=D.download(row["id"], 0), aria_label="Download " + row["title"].to(str),
                      class_name="doc-download doc-tap"),
            _more_menu(row),
            spacing="2", wrap="wrap", align="start",
        ),
    )


def _cells(row: Any) -> list[rx.Component]:
    return [
        rx.table.row_header_cell(_title(row)),
        rx.table.cell(row["category_label"]),
        rx.table.cell(row["date"]),
        rx.table.cell(row["source"]),
        rx.table.cell(rx.text(row["added"], size="2"), rx.text(row["uploaded_by"], size="1", color_scheme="gray")),
        rx.table.cell(_actions(row)),
    ]


def _card(row: Any) -> rx.Component:
    return rx.card(
        rx.flex(
            _title(row),
            rx.text(row["category_label"], " · ", row["date"], size="2", color_scheme="gray"),
            rx.cond(row["source"], rx.text(row["source"], size="2", color_scheme="gray")),
            _actions(row),
            direction="column", spacing="2", align="start",
        ),
        class_name="doc-card",
    )


COLUMNS = ["Document", "Category", "Date of service", "Source", "Added", "Actions"]


# A row is a memoized component of its own: when something else on the page changes (a keystroke in
# the upload form, a dialog opening) the rows whose data did not change are not rendered again.
@rx.memo
def _table_row(row: rx.Var[dict[str, Any]]) -> rx.Component:
    return rx.table.row(*_cells(row))


@rx.memo
def _card_row(row: rx.Var[dict[str, Any]]) -> rx.Component:
    return _card(row)


def _rows() -> rx.Component:
    """The page's rows as a table (md and up) or as cards (below), only the one the viewport shows."""
    return rx.box(
        rx.cond(
            _wide,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(c) for c in COLUMNS])),
                rx.table.body(rx.foreach(D.rows, lambda row: _table_row(row=row))),
                variant="surface", width="100%", aria_label="Documents", id="doc-table",
            ),
            rx.flex(rx.foreach(D.rows, lambda row: _card_row(row=row)), direction="column", spacing="2",
                    width="100%"),
        ),
        width="100%",
        style=_LIST_STYLE,
    )


def _empty(empty_hint: Any) -> rx.Component:
    """Nothing listed: narrowed by the filters, hidden from this role, or really none yet."""
    return rx.cond(
        D.filtered,
        empty_state("search-x", "No documents match these filters", "Clear the filters to see every document."),
        rx.cond(
            D.seen_kinds != "",
            empty_state("eye-off", "No documents you can see",
                        "You see " + D.seen_kinds + ". Other documents of this patient are not listed for your role."),
            empty_state("file-text", "No documents yet", empty_hint),
        ),
    )


def document_list(empty_hint: Any) -> rx.Component:
    return rx.vstack(
        rx.text(D.total, " document", rx.cond(D.total == 1, "", "s"), size="2", color=MUTED, aria_live="polite",
                id="doc-count"),
        rx.cond(
            D.total > 0,
            rx.vstack(
                _rows(),
                rx.cond(D.pages > 1, pagination(D.page, D.pages, D.prev_page, D.next_page)),
                spacing="3", width="100%",
            ),
            _empty(empty_hint),
        ),
        spacing="2", width="100%",
    )


# ---------------------------------------------------------------- dialogs


def _dialog_buttons(*buttons: rx.Component) -> rx.Component:
    return rx.flex(rx.dialog.close(secondary_button("Cancel", type="button")), *buttons, spacing="3", justify="end",
                   wrap="wrap", margin_top="4")


def _preview() -> rx.Component:
    return rx.vstack(
        rx.cond(
            D.preview_failed,
            rx.callout("This file can't be previewed. Download it to open it.", icon="info", color_scheme="gray",
                       id="doc-preview-unavailable", width="100%"),
            rx.cond(
                D.preview_kind == "image",
                preview_image(src=D.preview_url, alt="Preview of " + D.target_title, id="doc-preview-image",
                              on_error=D.preview_not_shown,
                              style={"max_width": "100%", "max_height": "70vh", "object_fit": "contain",
                                     "border": "1px solid var(--gray-5)"}),
                rx.el.iframe(src=D.preview_url, title="Preview of " + D.target_title, id="doc-preview-frame",
                             style={"width": "100%", "height": "70vh", "border": "none"}),
            ),
        ),
        rx.flex(rx.dialog.close(secondary_button("Close", type="button")),
                primary_button("Download", type="button", on_click=D.download(D.target_id, 0)),
                spacing="3", justify="end", width="100%"),
        width="100%", spacing="3",
    )


def _versions() -> rx.Component:
    return rx.vstack(
        rx.el.ol(
            rx.foreach(D.versions, lambda v: rx.el.li(rx.card(rx.flex(
                rx.vstack(
                    rx.text("Version ", v["number"].to(str), rx.cond(v["current"], " (current)", ""), ": ",
                            v["filename"], weight="medium"),
                    rx.text("Added by ", v["uploaded_by"], " on ", v["uploaded_at"], " · ", v["size"], size="2",
                            color=MUTED),
                    rx.cond(v["replaced_by"], rx.text("Replaced by ", v["replaced_by"], " on ", v["replaced_at"],
                                                      size="2", color=MUTED)),
                    spacing="1",
                ),
                rx.spacer(),
                rx.cond(v["available"], rx.button(rx.icon("download", size=16), "Download", variant="soft",
                                                  min_height=TAP, on_click=D.download(D.target_id, v["number"]))),
                spacing="3", wrap="wrap", align="center",
            ), width="100%"), style={"list_style": "none"})),
            style={"padding": "0", "margin": "0", "display": "flex", "flex_direction": "column", "gap": "8px"},
            id="doc-versions",
        ),
        rx.flex(rx.dialog.close(secondary_button("Close", type="button")), justify="end", width="100%"),
        width="100%",
    )


def _remove() -> rx.Component:
    return rx.vstack(
        rx.text("It disappears from the list for everyone except administrators, who can restore it or purge it "
                "after the retention period.", size="2"),
        textarea_field("Why is it being removed?", "doc-remove-reason", D.reason, D.set_reason, required=True),
        error_callout(D.dialog_error),
        _dialog_buttons(rx.button("Remove document", color_scheme="red", size="3", min_height=TAP,
                                  on_click=D.confirm_remove, id="doc-remove-confirm")),
        width="100%",
    )


def _hold() -> rx.Component:
    return rx.vstack(
        rx.text("Until this date the patient sees that the document exists and when it will be released, but not "
                "its content.", size="2"),
        form_field("Release to the patient on", "doc-hold-date", D.hold_date, D.set_hold_date, type_="date"),
        error_callout(D.dialog_error),
        _dialog_buttons(secondary_button("Release now", type="button", on_click=D.release_hold),
                        primary_button("Hold", type="button", on_click=D.save_hold, id="doc-hold-save")),
        width="100%",
    )


def _new_version() -> rx.Component:
    return rx.vstack(
        rx.text("The corrected file becomes the current version; earlier versions stay viewable.", size="2"),
        _file_picker(VERSION_INPUT, "doc-version-names", False),
        _progress_list(VERSION_LIST),
        _dialog_buttons(primary_button("Upload corrected file", type="button", on_click=D.start_version_upload,
                                       id="doc-version-submit")),
        width="100%",
    )


def _purge() -> rx.Component:
    return rx.vstack(
        rx.text("The files and the document's details are erased for good; only a record that a document existed "
                "remains. This cannot be undone.", size="2"),
        error_callout(D.dialog_error),
        _dialog_buttons(rx.button("Purge for good", color_scheme="red", size="3", min_height=TAP,
                                  on_click=D.confirm_purge, id="doc-purge-confirm")),
        width="100%",
    )


def dialogs() -> rx.Component:
    heading = rx.match(D.dialog, ("preview", "Preview"), ("versions", "Versions"), ("remove", "Remove document"),
                       ("hold", "Hold until discussed"), ("new_version", "Upload a corrected file"),
                       ("purge", "Purge document"), "")
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(heading),
            rx.dialog.description(D.target_title, size="2", color=MUTED, margin_bottom="3"),
            rx.match(D.dialog, ("preview", _preview()), ("versions", _versions()), ("remove", _remove()),
                     ("hold", _hold()), ("new_version", _new_version()), ("purge", _purge()), rx.fragment()),
            max_width=rx.cond(D.dialog == "preview", "960px", "560px"),
            width="95vw",
        ),
        open=D.dialog != "",
        on_open_change=D.close_dialog,
    )


def messages() -> rx.Component:
    return rx.vstack(success_callout(D.message, id="doc-message"), error_callout(D.error, id="doc-error"),
                     width="100%", spacing="2")
