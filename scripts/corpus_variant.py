"""What a corpus variant's build settings (corpus/variants) mean for the
tests and the table generators: the GOARCH its programs are built for, and
whether the linker stripped them (-ldflags=-s: no symbol table, no DWARF).
Kept out of scripts/corpus.py, whose text is part of every core's stamp."""
import shlex

import corpus


def goarch(variant):
    """The GOARCH a variant builds for ("amd64" for this host's default)."""
    env, _ = corpus.build_settings(variant)
    return env.get("GOARCH") or corpus.host_goarch()


def ldflags(variant):
    words = []
    for f in corpus.build_settings(variant)[1]:
        if f.startswith("-ldflags="):
            words += shlex.split(f[len("-ldflags="):])
    return words


def stripped(variant):
    """Built with -ldflags=-s (and -w): no symbols, no DWARF."""
    return "-s" in ldflags(variant)
