"""`crm`, the command line: generate, run, backfill, report, demo (on top of pipelines/)."""
