// Lint rules that keep escape hatches out: no `any`, no non-null assertions, no floating promises.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "coverage/**", "docs/**", "dist/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-non-null-assertion": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The product ships only the product: daemon code never reaches into test support (test/,
    // the local test cluster among it), fakes (testing/) or fixtures (testdata/).
    files: ["cmd/**/*.ts", "pkg/**/*.ts"],
    ignores: ["**/*.test.ts", "**/testing/**", "**/testdata/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/test/**", "**/localcluster/**", "**/testing/**", "**/testdata/**"],
              message: "product code must not import test support: the image ships only the daemons",
            },
          ],
        },
      ],
    },
  },
  { files: ["**/*.js"], ...tseslint.configs.disableTypeChecked },
);
