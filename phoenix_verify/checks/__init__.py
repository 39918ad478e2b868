"""Pure comparisons of declared against observed state: no sockets, no subprocesses, one module per concern.

A check takes what `phoenix_verify.access` probed (or what the inventory declares) and returns the problems it
finds as text; the thin tests assert that list is empty, so a failure reads as the evidence itself.
"""
