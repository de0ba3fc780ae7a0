from nnkit.cli import main

raise SystemExit(main())
