"""``python -m gridkit``: the ``gridkit`` command."""
from gridkit.entry import main

main()
