"""Nova's get_console_output text for each [hex bytes, tail_length] case on stdin (JSON), as the compute manager makes it."""
import json, sys
from nova.compute.manager import ComputeManager
cases = json.loads(sys.stdin.read())
out = []
for text, length in cases:
    log = bytes.fromhex(text)
    o = log if length is None else ComputeManager._tail_log(None, log, length)
    out.append(o.decode('ascii', 'replace'))
print(json.dumps(out))
