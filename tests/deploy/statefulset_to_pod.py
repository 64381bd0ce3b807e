#!/usr/bin/python3
"""Turns a rendered overlay (kubectl kustomize output) into what
`podman kube play` runs: the StatefulSet's pod template as a Pod, and its
ConfigMaps.

    statefulset_to_pod.py RENDERED.yaml IMAGE HOST_PORT POD.yaml CONFIGMAPS.yaml [HEALTH_HOST_PORT]

The pod keeps the manifests' securityContext, envFrom, probes, mounts and
volumes; changed for a local run are only: the image (IMAGE), the volume
claim template (a claim named after the pod, which podman makes a named
volume), the gRPC port published on 127.0.0.1:HOST_PORT (and the probes'
health port on 127.0.0.1:HEALTH_HOST_PORT if given), no other published
port, and optional Secret volumes dropped with their mounts (podman 4.3
fails on a missing Secret even when it is optional; Kubernetes mounts an
empty directory). Needs python3-yaml.
"""

import sys

import yaml


def main(argv):
    if len(argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 2
    rendered, image, host_port, pod_out, configmaps_out = argv[:5]
    published = {"grpc": host_port}
    if len(argv) == 6:
        published["health"] = argv[5]
    with open(rendered, encoding="utf-8") as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    statefulsets = [o for o in objects if o.get("kind") == "StatefulSet"]
    if len(statefulsets) != 1:
        print(f"expected one StatefulSet, found {len(statefulsets)}", file=sys.stderr)
        return 1
    sts = statefulsets[0]
    name = sts["metadata"]["name"]
    template = sts["spec"]["template"]
    spec = template["spec"]

    claims = [c["metadata"]["name"] for c in sts["spec"].get("volumeClaimTemplates", [])]
    optional = {
        v["name"] for v in spec.get("volumes", []) if v.get("secret", {}).get("optional")
    }
    spec["volumes"] = [v for v in spec.get("volumes", []) if v["name"] not in optional]
    for claim in claims:
        spec["volumes"].append(
            {"name": claim, "persistentVolumeClaim": {"claimName": f"{claim}-{name}-kube-play"}}
        )
    for container in spec["containers"]:
        container["image"] = image
        container["volumeMounts"] = [
            m for m in container.get("volumeMounts", []) if m["name"] not in optional
        ]
        ports = []
        for port in container.get("ports", []):
            if port.get("name") in published:
                port = dict(port, hostPort=int(published[port["name"]]), hostIP="127.0.0.1")
                ports.append(port)
        container["ports"] = ports

    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{name}-kube-play",
            "labels": template["metadata"].get("labels", {}),
            "annotations": template["metadata"].get("annotations", {}),
        },
        "spec": spec,
    }
    with open(pod_out, "w", encoding="utf-8") as f:
        yaml.safe_dump(pod, f, sort_keys=False)
    with open(configmaps_out, "w", encoding="utf-8") as f:
        yaml.safe_dump_all([o for o in objects if o.get("kind") == "ConfigMap"], f, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
