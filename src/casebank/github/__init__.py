"""GitHub: the event that triggered the action → check runs, one sticky PR comment, the job
step summary and outputs. ``casebank.commands.action`` drives it; ``casebank.github.action``
holds the flow, one small module per thing posted."""
