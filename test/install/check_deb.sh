#!/usr/bin/env bash
# Builds the Debian package (cpack -G DEB), checks its control fields and contents with
# dpkg-deb, then unpacks it into a scratch root and compiles and runs a model with the
# unpacked vitc and vit-run (the installed tree finds libHalide beside it).
# Usage: check_deb.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 source=$2 work=$3
case=$source/test/data/reference/tiny_token_erf
rm -rf "$work" && mkdir -p "$work"
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" > cpack.log)
deb=$(ls "$work"/vitc_*.deb)
dpkg-deb --field "$deb" Package Version Architecture Depends
contents=$(dpkg-deb --contents "$deb")
for file in ./usr/bin/vitc ./usr/bin/vit-run ./usr/lib/libvitrt.so ./usr/lib/libHalide.so \
            ./usr/include/vitrt.h ./usr/lib/cmake/vitc/vitcConfig.cmake ./usr/lib/pkgconfig/vitrt.pc; do
  grep -Eq " $file( -> .*)?\$" <<< "$contents" || { echo "check_deb.sh: $file is not in $deb" >&2; exit 1; }
done
dpkg-deb -x "$deb" "$work/root"
"$work/root/usr/bin/vitc" --config "$case/config.json" --weights "$case/model.safetensors" \
  --emit=lib -o "$work/libtiny.so"
"$work/root/usr/bin/vit-run" --library "$work/libtiny.so" "$case/input.npy" --top 1
