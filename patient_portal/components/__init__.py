"""The UI kit every page uses: shells, page headers, form fields, tables, badges, dialogs."""
