# pnpm through corepack (pinned by package.json's packageManager), then the workspace's dependencies.
export COREPACK_INTEGRITY_KEYS=0 # corepack's bundled keys fail the signature check on these machines
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "12.4.2" ]; then
  echo "setup: enabling pnpm 12.4.2 through corepack"
  corepack enable
  corepack prepare pnpm@12.4.2 --activate >/dev/null
fi
# --frozen-lockfile: a fresh clone gets exactly the locked versions; fast when already installed.
pnpm install --frozen-lockfile --prefer-offline --reporter=silent
