#!/bin/sh
# Runs the command as the unprivileged "node" user. A Fly volume is mounted owned by root,
# so when HF_HOME lives on one, it is created and handed to that user first.
set -e
if [ "$(id -u)" = "0" ]; then
  if [ -z "$PREPARED_DIR" ] && [ -n "$HF_HOME" ]; then
    mkdir -p "$HF_HOME"
    chown node:node "$HF_HOME"
  fi
  exec setpriv --reuid=node --regid=node --init-groups -- "$@"
fi
exec "$@"
