from casebank.cli import main

raise SystemExit(main())
