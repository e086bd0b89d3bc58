"""Receipts composed as printer/ documents, and the print spool that prints them after the commit."""
