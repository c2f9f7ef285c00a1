from mcoaviz.cli import main

raise SystemExit(main())
