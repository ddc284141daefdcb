from bpgui.app import main

raise SystemExit(main())
