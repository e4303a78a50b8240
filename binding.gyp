# Build of the N-API addon for node-gyp-build (install from source) and prebuildify (shipped
# binaries). The sources come from native/sources.json, the list CMakeLists.txt reads too.
# Every file is compiled for the architecture baseline; the kernel files raise their own ISA
# per function (native/kernels/target.h) and dispatch picks them at run time, so a prebuilt
# binary runs on any CPU of its architecture. Never add -march=native here.
{
  "targets": [
    {
      "target_name": "hdglue",
      "sources": [
        "<!@(node -p \"const s = require('./native/sources.json'); s.core.concat(s.addon).join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-ffp-contract=off", "-fvisibility=hidden", "-fno-strict-aliasing"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-ffp-contract=off", "-fno-strict-aliasing"]
      },
      "conditions": [
        ["target_arch == 'x64'", {
          "sources": ["<!@(node -p \"require('./native/sources.json').x64.join(' ')\")"],
          "cflags_cc": ["-march=x86-64", "-mtune=generic"]
        }],
        ["target_arch == 'arm64'", {
          "sources": ["<!@(node -p \"require('./native/sources.json').arm64.join(' ')\")"],
          "cflags_cc": ["-march=armv8-a"]
        }]
      ]
    }
  ]
}
