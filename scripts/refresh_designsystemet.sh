#!/usr/bin/env bash
# Refresh the vendored Designsystemet CSS (Norway's public-sector design system, MIT licence) from the npm registry.
# The site serves the copies under static/vendor/designsystemet/, so neither a visitor nor CI needs Node.
# To upgrade: change a version below, run this script, look at the pages, commit the result.
set -euo pipefail

CSS_VERSION="1.22.0"    # @digdir/designsystemet-css: the components
THEME_VERSION="1.11.0"  # @digdir/designsystemet-theme: colours, sizes and the typography tokens
THEME="digdir"          # one of the themes the package ships under brand/

cd "$(dirname "$0")/.."
target=static/vendor/designsystemet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "@digdir/designsystemet-css@$CSS_VERSION" "@digdir/designsystemet-theme@$THEME_VERSION" >/dev/null)
mkdir -p "$work/css" "$work/theme" "$target"
tar xzf "$work/digdir-designsystemet-css-$CSS_VERSION.tgz" -C "$work/css"
tar xzf "$work/digdir-designsystemet-theme-$THEME_VERSION.tgz" -C "$work/theme"

# Nothing may load from another origin: refuse a release that imports a stylesheet or a font from elsewhere.
for file in "$work/css/package/dist/src/index.css" "$work/theme/package/brand/$THEME.css"; do
  if grep -Eq "@import|url\((['\"]?)(https?:)?//" "$file"; then
    echo "refusing $file: it loads something from another origin" >&2
    exit 1
  fi
done

cp "$work/css/package/dist/src/index.css" "$target/designsystemet.css"
cp "$work/theme/package/brand/$THEME.css" "$target/theme.css"
cp "$work/css/package/LICENSE" "$target/LICENSE-designsystemet-css"
cp "$work/theme/package/LICENSE" "$target/LICENSE-designsystemet-theme"
cat > "$target/VERSION" <<VERSIONS
@digdir/designsystemet-css $CSS_VERSION (dist/src/index.css -> designsystemet.css)
@digdir/designsystemet-theme $THEME_VERSION (brand/$THEME.css -> theme.css)
Refreshed by scripts/refresh_designsystemet.sh from the npm registry. Licence: MIT (see the LICENSE files).
VERSIONS
echo "Designsystemet css $CSS_VERSION and theme $THEME_VERSION ($THEME) copied to $target."
