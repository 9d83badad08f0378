"""`python -m layercake_contracts.schemas [DIR]`: write the schemas (default: into the package)."""

import sys
from pathlib import Path

from layercake_contracts.schemas import schema_folder, write_schemas

target = Path(sys.argv[1]) if len(sys.argv) > 1 else schema_folder()
for path in write_schemas(target):
    sys.stdout.write(f"{path}\n")
