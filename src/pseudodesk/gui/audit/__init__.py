"""The audit window for information-governance leads.

A thin shell over the core: it reads this installation's audit log with
:func:`pseudodesk.core.audit.log.read_entries`, checks it with
:func:`~pseudodesk.core.audit.log.verify_log` (and, on *Verify*, records the verification
as ``pseudodesk-cli audit verify`` does), lists the entries in a filterable table, and
writes the same report as ``pseudodesk-cli audit report``
(:func:`~pseudodesk.core.audit.listing.listing_to_csv` and
:func:`~pseudodesk.core.audit.listing.listing_to_html`, printed to PDF or a printer
through a :class:`QTextDocument`). *Inspect a package* runs
:func:`~pseudodesk.core.package.manifest.inspect_package`, exactly as ``pseudodesk-cli inspect``.

Reading and verifying a long log, and decrypting a package, run on the app's one
:class:`~pseudodesk.gui.jobs.JobBridge`; a job asked for while another runs waits for it
(:class:`~pseudodesk.gui.jobs.QueuedJobs`). Nothing here verifies anything itself.

The window is :mod:`~pseudodesk.gui.audit.window`; its filter box
:mod:`~pseudodesk.gui.audit.filters`, the entries' model and table
:mod:`~pseudodesk.gui.audit.model`, the package inspection dialog
:mod:`~pseudodesk.gui.audit.inspect_dialog`, and printing the report
:mod:`~pseudodesk.gui.audit.report`. What it shows that needs no Qt is in
:mod:`pseudodesk.core.audit.listing`.
"""

from pseudodesk.gui.audit.window import AuditWindow

__all__ = ["AuditWindow"]
