"""The write path: every change to the home is planned, recovered-before, journaled, verified.

operation.py holds the entry (``transact``) and the safety pattern (``run_operation``);
plan.py what to write and its report; guards.py the refusals; apply.py the writes;
journal.py the write-ahead journal; recovery.py the undoing of a killed run.
"""
