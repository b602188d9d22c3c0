"""Evaluation protocols' split files (zero-shot, base-to-novel, few-shot, fully supervised).

Each builder reads canonical dataset splits and writes ``<out>/<protocol>/protocol.json`` plus CSVs
in the canonical schema; see common.py for the protocol.json format.
"""
