"""``python -m autograd_lite ...`` runs the command line, as ``autograd-lite ...`` does."""

from autograd_lite.cli import main

raise SystemExit(main())
