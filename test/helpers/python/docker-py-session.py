# What a docker-py user does against the REST service: version, a one-off run whose output
# comes back, run detached, reload, exec_run, logs, stop, wait, remove, list. Prints one JSON
# object with what each step returned. argv: BASE_URL IMAGE SERVER_IMAGE NAME_PREFIX [TOKEN PROJECT]
import json
import sys

import docker

base_url, image, server_image, prefix = sys.argv[1:5]
client = docker.DockerClient(base_url=base_url, version="1.41", timeout=120)
if len(sys.argv) > 6:
    client.api.headers.update({"X-Auth-Token": sys.argv[5], "X-Auth-Project-Id": sys.argv[6]})
out = {"version": client.version()["ApiVersion"]}
out["run"] = client.containers.run(
    image, ["sh", "-c", "echo py-out; echo py-err >&2"], name=prefix + "once", remove=True, stdout=True, stderr=True
).decode()
container = client.containers.run(server_image, detach=True, name=prefix + "svc", environment={"WHO": "docker-py"})
container.reload()
out["status"] = container.status
code, output = container.exec_run(["sh", "-c", 'echo "exec $WHO"'])
out["exec"] = [code, output.decode()]
out["logs"] = container.logs().decode()
container.stop(timeout=10)
out["wait"] = container.wait()["StatusCode"]
container.remove()
out["names"] = [c.name for c in client.containers.list(all=True)]
print(json.dumps(out))
