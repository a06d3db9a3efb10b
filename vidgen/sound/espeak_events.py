"""A standalone program, run jailed (never imported by vidgen): speaks one line with libespeak-ng and writes
the WAV and espeak-ng's own word events, so a word's time is the voice's, not a guess.

`python -I -S espeak_events.py VOICE SPEED WAV EVENTS` with the text on stdin. EVENTS is JSON:
`{"rate": 22050, "words": [[character, ms], ...]}`, each word's first character (0-based, in the text
as given) and the millisecond its sound starts. Exit 3: no libespeak-ng here (the caller falls back to
the espeak-ng program); exit 4: the voice is unknown.
"""

import ctypes
import ctypes.util
import json
import sys
import wave

_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS: the callback gets the samples and their events, no sound device
_WORD, _END_OF_LIST = 1, 0
_RATE = 1  # espeakRATE
_CHARS_UTF8 = 1
_END_PAUSE = 0x1000  # espeakENDPAUSE: the sentence pause at the end, as the espeak-ng program adds it


class _Event(ctypes.Structure):
    _fields_ = [  # espeak_EVENT, speak_lib.h
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms from the start of this synthesis
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


def main(voice: str, speed: int, wav_path: str, events_path: str, text: str) -> int:
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1")
    except OSError:
        return 3
    rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, None, 0)
    if rate <= 0:
        return 3
    samples = bytearray()
    words: list[list[int]] = []

    def heard(wav: "ctypes._Pointer[ctypes.c_short]", count: int, events: "ctypes._Pointer[_Event]") -> int:
        if wav and count > 0:
            samples.extend(ctypes.string_at(wav, count * 2))
        index = 0
        while events[index].type != _END_OF_LIST:
            event = events[index]
            if event.type == _WORD:
                words.append([event.text_position - 1, event.audio_position])
            index += 1
        return 0

    callback = _Callback(heard)
    lib.espeak_SetSynthCallback(callback)
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        return 4
    lib.espeak_SetParameter(_RATE, speed, 0)
    data = text.encode()
    buffer = ctypes.create_string_buffer(data)
    if lib.espeak_Synth(buffer, len(data) + 1, 0, 1, 0, _CHARS_UTF8 | _END_PAUSE, None, None) != 0:
        return 5
    lib.espeak_Synchronize()
    with wave.open(wav_path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))
    with open(events_path, "w") as found:
        json.dump({"rate": rate, "words": words}, found)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.stdin.read()))
