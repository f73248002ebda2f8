from alphapeer.cli import main

raise SystemExit(main())
