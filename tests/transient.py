"""What a test copying the checkout's folders must leave behind: another process reading the chain
meanwhile (a hostile pass, an editor's `validate`, a parallel test) holds `migrations/.ahsd.lock`
for a moment, and a copy that catches it makes the copied project hold a lock its first command
then takes and removes (a snapshot "before" that no command can leave)."""

import shutil

TRANSIENT = shutil.ignore_patterns("*.lock", ".ahsd-journal.json", ".*.tmp")
