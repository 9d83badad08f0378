"""The kind of answer a real model writes: prose, commands, whole files, edits and a diff."""

from __future__ import annotations

from layercake_parser.core.extract import extract

BASE = {
    "src/server.ts": 'import express from "express";\nconst app = express();\napp.listen(3000);\n',
    "package.json": '{\n  "name": "api",\n  "scripts": {\n    "test": "jest"\n  }\n}\n',
}

ANSWER = """I'll fix the failing build. The error was a missing route module.

First, install the dependency:

```bash
npm install zod
```

Then create the route:

### File: src/routes/users.ts
```typescript
import { Router } from "express";

export const users = Router();
users.get("/", (_req, res) => res.json([]));
```

Now wire it into the server:

src/server.ts
```typescript
<<<<<<< SEARCH
const app = express();
=======
import { users } from "./routes/users";

const app = express();
app.use("/users", users);
>>>>>>> REPLACE
```

And add a test script for coverage:

```diff
--- a/package.json
+++ b/package.json
@@ -3,4 +3,5 @@
   "scripts": {
-    "test": "jest"
+    "test": "jest",
+    "coverage": "jest --coverage"
   }
 }
```

You should see output like:

```
PASS  src/routes/users.test.ts
Tests: 1 passed
```

<file path="src/routes/users.test.ts">
import { users } from "./users";

test("router exists", () => expect(users).toBeDefined());
</file>

Run `npm test`:

```console
$ npm test
```

Let me know if anything else fails!
"""


def test_a_real_model_answer_yields_exactly_the_intended_files():
    """Shell blocks and sample output are ignored; files, edits and the diff all apply."""
    result = extract(ANSWER, BASE)
    files = {f.path: f for f in result.files}
    assert sorted(files) == [
        "package.json",
        "src/routes/users.test.ts",
        "src/routes/users.ts",
        "src/server.ts",
    ]
    assert files["src/routes/users.ts"].source.value == "fence_label"
    assert files["src/routes/users.ts"].content.startswith('import { Router } from "express";\n')
    assert files["src/server.ts"].content == (
        'import express from "express";\nimport { users } from "./routes/users";\n\n'
        'const app = express();\napp.use("/users", users);\napp.listen(3000);\n'
    )
    assert '"coverage": "jest --coverage"' in files["package.json"].content
    assert files["package.json"].source.value == "unified_diff"
    assert files["src/routes/users.test.ts"].source.value == "file_tag"
    assert result.rejected == ()
