/*
 * Where the plugin named by [runners.autoscaler] plugin lives, as
 * gitlab-runner's installer.LookPath finds it:
 *   - a path (absolute, or holding '/' and naming a file);
 *   - a program name on $PATH ("fleeting-plugin-aws");
 *   - an installed OCI reference: "aws", "aws:1", "aws:1.5.1", "aws:latest",
 *     "<repo>/<name>[:c]", "<registry>/<repo>/<name>[:c]" under
 *     $FLEETING_PLUGIN_PATH or ~/.config/fleeting/plugins, as
 *     <registry>/<repo>/<name>/<version>/plugin (or .../<os>/<arch>/plugin),
 *     the highest version that matches the constraint.
 */
#ifndef CR_AUTOSCALE_PLUGIN_LOOKUP_H
#define CR_AUTOSCALE_PLUGIN_LOOKUP_H

struct buf;

/* *path is allocated; CR_ERR_NOT_FOUND with the places tried in err. */
int plugin_lookup(const char *name, char **path, struct buf *err);

#endif
