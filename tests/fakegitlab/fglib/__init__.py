"""Internals of the fake GitLab coordinator (see ../README.md).

Modules:
  payload    - job payload builder (spec §3) and enums (failure reasons, artifact types)
  multipart  - small multipart/form-data parser for artifact uploads
  state      - thread-safe in-memory model: config, runners, jobs, faults, request log
  runner_api - the /api/v4 endpoints the runner talks to (spec §1, §2, §4, §5, §6)
  control    - the /__control JSON API used by tests in other processes
  httpserver - HTTP/1.1 plumbing: body reading, fault application, response writing
"""
