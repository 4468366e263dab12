"""Front end: the Textual terminal UI (`gendata tui`, `gendata edit`).

Imported only by those commands, so `import gendata` and the other commands never load
Textual. Non-UI logic (finding images, sorting, filtering, applying one value to many files)
lives in `library` so it can be tested without a terminal.
"""
