#!/usr/bin/env bash
# t_autoscale_instance.sh's fake-cloud scenarios with a go-plugin gRPC
# plugin (tests/autoscale/fakeplugin.py, /usr/bin/python3 with Debian's
# python3-grpcio) instead of a JSON-lines one.
AS_PLUGIN_KIND=grpc
. "$(dirname "$0")/t_autoscale_instance.sh"
