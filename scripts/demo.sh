#!/usr/bin/env bash
# Set up (if needed) and run the main job end to end on a real sample image, SQLite default:
# create a case, register people, acquire the image, seal and hand it over, triage it (files,
# deleted files, hashes, plugin findings), export a file; then build two small phone extractions
# (made-up data in the apps' real schemas: scripts/make_phone_extraction.py), acquire and triage
# them, print a conversation, the numbers that link the phones and a stretch of the timeline;
# verify the whole chain of custody; then write the court report as PDF and HTML, bundle it with
# everything needed to check it, and verify the bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

DEMO=${DEMO_DIR:-demo}
rm -rf "$DEMO"
mkdir -p "$DEMO/evidence"
export EXHIBIT_CONFIG_DIR="$PWD/$DEMO/config"     # the demo's keys stay inside the demo folder
export EXHIBIT_CASE="$PWD/$DEMO/case"
export PATH="$PWD/.venv/bin:$PATH"

echo "==> sample evidence: Debian's forensics-samples FAT image (a 50 MB MBR disk)"
xz -dc /usr/share/forensics-samples/fs.vfat.xz > "$DEMO/evidence/fs.vfat.dd"
chmod a-w "$DEMO/evidence/fs.vfat.dd"

set -x
exhibit init "$DEMO/case" --case-number 2026/001 --title "Quick start" --agency "Demo Lab"
exhibit actor add jdoe --name "Jane Doe" --role evidence-officer --org "Demo Police"
exhibit actor add asmith --name "Alan Smith" --role examiner --org "Demo Lab"
exhibit acquire "$DEMO/evidence/fs.vfat.dd" --exhibit EX-001 --description "USB stick (FAT)" \
    --serial DEMO-0001 --location "Seizure site" --actor jdoe
exhibit custody seal EX-001 --seal S-0001 --location "Evidence room" --actor jdoe
exhibit custody transfer EX-001 --to asmith --reason "triage" --authority "Warrant W-2026-001" --actor jdoe
exhibit custody unseal EX-001 --seal S-0001 --actor asmith
exhibit custody checkpoint --out "$DEMO/checkpoint.json"
exhibit triage EX-001 --hash md5,sha256 --actor asmith
exhibit ls EX-001 -r --deleted
exhibit findings EX-001 --kind media
exhibit export EX-001 /pic1/IMG_1054.JPG --to "$DEMO/exports" --actor asmith
exhibit custody log EX-001
{ set +x; } 2>/dev/null

echo "==> two phones: made-up messages, calls and contacts in the apps' real database schemas"
.venv/bin/python scripts/make_phone_extraction.py "$DEMO/evidence/phones"
find "$DEMO/evidence/phones" -type f -exec chmod a-w {} +
set -x
exhibit acquire "$DEMO/evidence/phones/android" --exhibit EX-002 --description "Android phone (Kai), file-system extraction" \
    --serial DEMO-0002 --location "Seizure site" --actor jdoe
exhibit acquire "$DEMO/evidence/phones/iphone" --exhibit EX-003 --description "iPhone (Dani), file-system extraction" \
    --serial DEMO-0003 --location "Seizure site" --actor jdoe
exhibit custody transfer EX-002 --to asmith --reason "triage" --authority "Warrant W-2026-002" --actor jdoe
exhibit custody transfer EX-003 --to asmith --reason "triage" --authority "Warrant W-2026-002" --actor jdoe
exhibit triage EX-002 --actor asmith
exhibit triage EX-003 --actor asmith
exhibit chats EX-002 --app sms --conversation 1 --region GB
exhibit links --region GB
exhibit timeline EX-002 EX-003 --from 2026-03-13T05:00+00:00 --to 2026-03-13T06:00+00:00
exhibit custody verify --rehash --against "$DEMO/checkpoint.json"
{ set +x; } 2>/dev/null

echo "==> the prosecutor's material: the court report (PDF and HTML) and a bundle anyone can verify"
mkdir -p "$DEMO/report"
set -x
exhibit report --format pdf --out "$DEMO/report/report-2026-001.pdf" --actor asmith
exhibit report --format html --out "$DEMO/report/report-2026-001" --actor asmith
exhibit bundle --out "$DEMO/report/bundle-2026-001.zip" --report "$DEMO/report/report-2026-001.pdf"
exhibit verify-bundle "$DEMO/report/bundle-2026-001.zip"
{ set +x; } 2>/dev/null
echo "==> done: the case is in $DEMO/case"
echo "    court report (PDF):  $DEMO/report/report-2026-001.pdf"
echo "    court report (HTML): $DEMO/report/report-2026-001/index.html (opens offline in any browser)"
echo "    verification bundle: $DEMO/report/bundle-2026-001.zip (check it with 'exhibit verify-bundle', or by hand: its README.txt)"
