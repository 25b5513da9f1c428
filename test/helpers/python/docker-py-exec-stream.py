# A docker-py user reading an exec's output as it comes (exec_start with stream=True and
# demux=True): each chunk with the stream it came on and when it came, then exec_inspect's
# exit code. Prints one JSON object. argv: BASE_URL CONTAINER
import json
import sys
import time

import docker

base_url, container = sys.argv[1:3]
api = docker.APIClient(base_url=base_url, version="1.41", timeout=60)
exec_id = api.exec_create(container, ["sh", "-c", "echo a; sleep 2; echo b >&2; exit 6"])["Id"]
began = time.monotonic()
chunks = []
for out, err in api.exec_start(exec_id, stream=True, demux=True):
    at = round(time.monotonic() - began, 3)
    if out:
        chunks.append(["stdout", out.decode(), at])
    if err:
        chunks.append(["stderr", err.decode(), at])
print(json.dumps({"chunks": chunks, "ended": round(time.monotonic() - began, 3), "exitCode": api.exec_inspect(exec_id)["ExitCode"]}))
