#!/usr/bin/env bash
# Builds and runs the libtorch reference bench: bash bench/libtorch/run.sh [threads] [steps]
#
# TorchSharp 0.107's native glue (libLibTorchSharp.so) was built with GCC 13 and asks for one
# symbol of GLIBCXX_3.4.32, std::ios_base_library_init(), which Debian 12's libstdc++ (GCC 12)
# lacks; everything else it needs is there. This script patches the build output's copy (never
# the NuGet cache): the symbol loses its version, the version requirement becomes weak, and a
# two-line shim library supplies the symbol (a no-op: GCC 12's libstdc++ initialises iostreams
# itself). Needs patchelf, g++ and python3 (apt-get install patchelf).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dotnet build "$here" -c Release -v q -nologo | grep -E "error|warn" && exit 1 || true
out="$here/bin/Release/net10.0/linux-x64"
lib="$out/libLibTorchSharp.so"
[ -f "$lib" ] || lib="$out/runtimes/linux-x64/native/libLibTorchSharp.so"
dir="$(dirname "$lib")"
if ! objdump -p "$lib" | grep -q "libios_base_init_shim.so"; then
  echo 'namespace std { void ios_base_library_init() {} }' > "$dir/ios_base_init_shim.cpp"
  g++ -shared -fPIC -O2 -o "$dir/libios_base_init_shim.so" "$dir/ios_base_init_shim.cpp"
  patchelf --clear-symbol-version _ZSt21ios_base_library_initv "$lib"
  python3 "$here/weaken_version.py" "$lib" GLIBCXX_3.4.32
  patchelf --add-needed libios_base_init_shim.so --set-rpath '$ORIGIN' "$lib"
fi
exec dotnet "$out/GraphNet.Bench.Libtorch.dll" "$@"
