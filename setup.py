"""The compiled parts of Exhibit: triage.sources._fastwalk, the listing walk in C over libtsk,
triage.sources._blockmap, libtsk's block walk (the unallocated blocks carving reads), and
triage.sources._magicscan, the byte look-ups of the MIME sniffing's screening (triage.sources.magicdb),
and plugins.media._pdq, the PDQ perceptual hash (bit for bit the reference's; plugins/media/pdq.py).

Everything else about the package is in pyproject.toml. The extension is optional: without
libtsk's headers (Debian: libtsk-dev) or a C compiler the build goes on without it, and
triage.views.listing / ImageSource.entries use the pytsk3 walk, which gives the same entries, slower;
the screening and the PDQ hash fall back to Python (and the pdqhash binding), the same answers, slower.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "triage.sources._fastwalk",
            sources=["triage/sources/_fastwalk.c"],
            depends=["triage/sources/_tskimage.h"],
            libraries=["tsk"],
            extra_compile_args=["-O2", "-Wall", "-Wno-unused-function"],
            optional=True,
        ),
        Extension(
            "triage.sources._blockmap",
            sources=["triage/sources/_blockmap.c"],
            depends=["triage/sources/_tskimage.h"],
            libraries=["tsk"],
            extra_compile_args=["-O2", "-Wall"],
            optional=True,
        ),
        Extension(
            "triage.sources._magicscan",
            sources=["triage/sources/_magicscan.c"],
            extra_compile_args=["-O2", "-Wall"],
            optional=True,
        ),
        Extension(
            "plugins.media._pdq",
            sources=["plugins/media/_pdq.c"],
            libraries=["m"],
            # -ffp-contract=off: no fused multiply-add where the reference rounds twice (same bits)
            extra_compile_args=["-O3", "-Wall", "-ffp-contract=off"],
            optional=True,
        ),
    ]
)
