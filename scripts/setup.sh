#!/usr/bin/env bash
# Set up Exhibit on a fresh Debian/Ubuntu machine: system packages, a virtualenv, the package.
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

# gcc, libc6-dev and libtsk-dev build triage.sources._fastwalk, the C walk behind `exhibit ls` (optional at
# install time: without them ls falls back to the slower pytsk3 walk); gcc also builds triage.sources._magicscan, the
# MIME sniffing's byte look-ups (without it they run in Python, slower), and plugins.media._pdq, the PDQ hash
# (without it the pdqhash binding computes the same hashes, slower). GNU time (/usr/bin/time -v)
# measures the peak memory of the real command in tests/triage/test_bounds.py and test_walkguard.py.
# libimage-exiftool-perl (exiftool) is the oracle of tests/plugins/test_documents.py and test_photos_exif.py.
# ffmpeg makes the MP4/MOV/3GP fixtures of tests/plugins/test_video_meta.py (exiftool is their oracle);
# g++ compiles the pdqhash binding (Meta's PDQ reference C++), which PyPI ships as source only.
# poppler-utils (pdftotext, run as a program) is the oracle of the PDF text in tests/triage/test_text.py.
# forensics-samples-ext2/-ext4: the ext disks whose deleted pictures carving must bring back
# (tests/triage/test_carve.py); testdisk: PhotoRec, run as a separate program by bench/carve_vs_photorec.py.
# libpango-1.0-0, libpangoft2-1.0-0, libharfbuzz-subset0 and fonts-dejavu-core: what WeasyPrint lays PDF
# reports out with; chromium: the real browser the report tests render the HTML report in (headless).
APT_PACKAGES=(python3-venv python3-dev gcc libc6-dev libtsk-dev sleuthkit ewf-tools libmagic1 xz-utils e2fsprogs time
              dosfstools mtools fdisk exfatprogs libimage-exiftool-perl forensics-samples-ntfs forensics-samples-vfat forensics-samples-exfat
              forensics-samples-ext2 forensics-samples-ext4 testdisk ffmpeg g++ poppler-utils
              libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core chromium)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "==> installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Exhibit needs Python 3.11 or newer")'
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c 'import custody, triage, plugins, pytest' 2>/dev/null \
   || [ pyproject.toml -nt .venv/.exhibit-installed ] || [ triage/sources/_fastwalk.c -nt .venv/.exhibit-installed ] || [ triage/sources/_blockmap.c -nt .venv/.exhibit-installed ] || [ triage/sources/_magicscan.c -nt .venv/.exhibit-installed ] || [ plugins/media/_pdq.c -nt .venv/.exhibit-installed ] || [ triage/sources/_tskimage.h -nt .venv/.exhibit-installed ] || [ setup.py -nt .venv/.exhibit-installed ]; then
  echo "==> installing Exhibit and its Python dependencies"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch .venv/.exhibit-installed
fi

# Exhibit's own modules compiled to bytecode now, as pip does for a regular install (an editable
# install leaves them as source): otherwise a machine that sets PYTHONDONTWRITEBYTECODE compiles
# every module on every command, about 0.3 s before `exhibit triage` starts (docs/performance.md).
# Only what changed is compiled again; a module edited later is recompiled by Python when imported.
.venv/bin/python -m compileall -q custody triage plugins
