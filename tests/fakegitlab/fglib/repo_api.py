"""What `crunner exec` reads for remote includes: repository files, CI templates, releases
(component versions) and plain remote URLs.

GitLab's endpoints (doc/api/repository_files.md, templates/gitlab_ci_ymls.md, releases):
  GET /api/v4/projects/:id/repository/files/:file_path/raw?ref=R   raw bytes
  GET /api/v4/templates/gitlab_ci_ymls/:key                        {"name", "content"}
  GET /api/v4/projects/:id/releases                                [release...], newest first
and, standing for any web server, GET /remote/<path> (no authentication).

:id is the URL-encoded full path ("group%2Fproj") or the numeric id. A PRIVATE-TOKEN
header must be one of config["api_tokens"] (or the admin token), else 401; a private
project asked for without a valid token is a 404, as on GitLab.
"""

import json
import os
from urllib.parse import unquote

from .messages import Response, json_response, message, text_response


def _project(state, ident):
    ident = unquote(ident)
    projects = state.projects
    if ident.isdigit():
        return next((p for p in projects.values() if p["id"] == int(ident)), None)
    return projects.get(ident.lower())


def _authorized(state, req):
    """(ok, error response): a wrong token is a 401 whatever is asked."""
    token = req.header("PRIVATE-TOKEN")
    if token is None:
        return False, None
    valid = list(state.config["api_tokens"]) + [state.config["admin_token"]]
    if token not in valid:
        return False, message(401, "401 Unauthorized")
    return True, None


def _visible_project(state, req, ident):
    authorized, error = _authorized(state, req)
    if error:
        return None, error
    project = _project(state, ident)
    if project is None or (project["private"] and not authorized):
        return None, message(404, "404 Project Not Found")
    return project, None


def repository_file(state, req):
    with state.lock:
        project, error = _visible_project(state, req, req.groups[0])
        if error:
            return error
        ref = req.query.get("ref")
        if not ref:
            return json_response(400, {"error": "ref is missing"})
        if ref == "HEAD":
            ref = project["default_branch"]
        tree = project["files"].get(ref)
        if tree is None:
            return message(404, "404 Commit Not Found")
        path = unquote(req.groups[1])
        if path not in tree:
            return message(404, "404 File Not Found")
        return Response(200, tree[path].encode(), [], "text/plain; charset=utf-8")


def releases(state, req):
    with state.lock:
        project, error = _visible_project(state, req, req.groups[0])
        if error:
            return error
        rels = sorted(project["releases"], key=lambda r: r.get("released_at", ""),
                      reverse=True)
        out = [{"tag_name": r["tag_name"], "name": r.get("name", r["tag_name"]),
                "released_at": r.get("released_at", "2024-01-01T00:00:00.000Z"),
                "upcoming_release": bool(r.get("upcoming_release", False)),
                "commit": {"id": r.get("sha", "0" * 40)}} for r in rels]
        return json_response(200, out)


def template(state, req):
    with state.lock:
        _, error = _authorized(state, req)
        if error:
            return error
        key = unquote(req.groups[0])
        content = state.templates.get(key)
        if content is None:
            return message(404, "404 Template Not Found")
        return json_response(200, {"name": key, "content": content})


def remote_file(state, req):
    with state.lock:
        content = state.remote_files.get(unquote(req.groups[0]))
    if content is None:
        return text_response(404, "Not Found")
    return text_response(200, content, content_type="text/plain; charset=utf-8")


# (method, path regex, endpoint name, handler, whether group 1 is a job id)
ROUTES = [
    ("GET", r"/api/v4/projects/([^/]+)/repository/files/([^/]+)/raw", "repository_file",
     repository_file, False),
    ("GET", r"/api/v4/projects/([^/]+)/releases", "releases", releases, False),
    ("GET", r"/api/v4/templates/gitlab_ci_ymls/([^/]+)", "template", template, False),
    ("GET", r"/remote/(.+)", "remote_file", remote_file, False),
]
ENDPOINTS = ("repository_file", "releases", "template", "remote_file")


def add_project(state, path, files=None, private=False, default_branch="main",
                releases=None, id=None):
    """files: {ref: {path: text}}; releases: [{"tag_name", "released_at"?, ...}]."""
    key = path.lower()
    state.projects[key] = {
        "id": int(id) if id is not None else len(state.projects) + 1,
        "path": path, "private": bool(private), "default_branch": default_branch,
        "files": {ref: dict(tree) for ref, tree in (files or {}).items()},
        "releases": list(releases or []),
    }
    return json.loads(json.dumps(state.projects[key]))


def load_content_dir(root):
    """Seeds from a directory tree:
        projects/<full path>/refs/<ref>/<file...>   a project's files at a ref
        projects/<full path>/project.json           optional: private, default_branch, releases
        templates/<Name>.gitlab-ci.yml              a CI template (key: Name)
        remote/<path>                               served at /remote/<path>
    """
    seed = {"projects": [], "templates": {}, "remote_files": {}}
    pdir = os.path.join(root, "projects")
    for dirpath, dirnames, _ in os.walk(pdir):
        if "refs" not in dirnames:
            continue
        dirnames.remove("refs")
        full = os.path.relpath(dirpath, pdir)
        project = {"path": full, "files": {}}
        meta = os.path.join(dirpath, "project.json")
        if os.path.exists(meta):
            with open(meta, encoding="utf-8") as f:
                project.update(json.load(f))
        refs = os.path.join(dirpath, "refs")
        for ref in sorted(os.listdir(refs)):
            tree = {}
            for d, _, names in os.walk(os.path.join(refs, ref)):
                for n in names:
                    p = os.path.join(d, n)
                    with open(p, encoding="utf-8") as f:
                        tree[os.path.relpath(p, os.path.join(refs, ref))] = f.read()
            project["files"][ref] = tree
        seed["projects"].append(project)
    for kind, sub in (("templates", "templates"), ("remote_files", "remote")):
        base = os.path.join(root, sub)
        for d, _, names in os.walk(base):
            for n in names:
                p = os.path.join(d, n)
                with open(p, encoding="utf-8") as f:
                    text = f.read()
                rel = os.path.relpath(p, base)
                if kind == "templates":
                    rel = rel[:-len(".gitlab-ci.yml")] if rel.endswith(".gitlab-ci.yml") else rel
                seed[kind][rel] = text
    return seed
