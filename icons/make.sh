#!/usr/bin/env bash
# Rasterises icons/keyfob.svg and icons/tray.svg into the PNG and ICO files
# the Tauri bundler and the tray need (rsvg-convert from Debian's
# librsvg2-bin, ImageMagick for the .ico). The outputs are committed, so a
# build needs neither tool; run this after changing an SVG.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for size in 16 32 48 64 128 256 512; do
  rsvg-convert -w "$size" -h "$size" keyfob.svg -o "$tmp/$size.png"
done
cp "$tmp/32.png" 32x32.png
cp "$tmp/128.png" 128x128.png
cp "$tmp/256.png" 128x128@2x.png
cp "$tmp/512.png" icon.png
rsvg-convert -w 64 -h 64 tray.svg -o tray.png
convert "$tmp/16.png" "$tmp/32.png" "$tmp/48.png" "$tmp/64.png" "$tmp/256.png" icon.ico
