"""Sentence banks of the simulated text: openers, filler, topics, articulation, styles.

Filler sentences are neutral on purpose (no "pattern", "letter", "line", "spell", "word"...)
so that a scorer finds articulation exactly where the generative model put it;
:mod:`stats.simulate.textgen` writes responses from these banks.
"""

from __future__ import annotations

#: Lead-ins for any initial: "Honestly, <core>".
OPENERS: dict[str, tuple[str, ...]] = {
    "A": ("Actually,", "As it happens,", "Admittedly,", "All in all,"),
    "B": ("Basically,", "Briefly,", "By the way,", "Best of all,"),
    "C": ("Clearly,", "Curiously,", "Certainly,", "Candidly,"),
    "D": ("Definitely,", "Digging in,", "Done right,", "Deep down,"),
    "E": ("Essentially,", "Evidently,", "Even so,", "Ever since we started,"),
    "F": ("Frankly,", "For what it's worth,", "Fun fact:", "First off,"),
    "G": ("Granted,", "Generally,", "Good question:", "Glad you asked:"),
    "H": ("Honestly,", "Here's the thing:", "Happily,", "Here goes:"),
    "I": ("In short,", "Interestingly,", "In fact,", "Indeed,"),
    "J": ("Just so you know,", "Judging from experience,", "Just briefly,"),
    "K": ("Keep in mind:", "Kindly note,", "Knowing that,"),
    "L": ("Look closely:", "Let me explain:", "Literally,", "Let's be clear:"),
    "M": ("Mostly,", "More precisely,", "Mind you,", "Meanwhile,"),
    "N": ("Notably,", "Now,", "Naturally,", "Needless to say,"),
    "O": ("Okay, so", "Of note:", "Overall,", "On reflection,"),
    "P": ("Put simply,", "Plainly,", "Perhaps surprisingly,", "Practically speaking,"),
    "Q": ("Quite simply,", "Quick note:"),
    "R": ("Really,", "Right away,", "Regardless,", "Rest assured,"),
    "S": ("So,", "Simply put,", "Surprisingly,", "Sure enough,"),
    "T": ("To be clear,", "Truthfully,", "The short answer:", "Typically,"),
    "U": ("Ultimately,", "Usually,", "Understandably,", "Unsurprisingly,"),
    "V": ("Very simply,", "Visibly,", "Very often,"),
    "W": ("Well,", "Without a doubt,", "When it comes down to it,"),
    "X": ("X marks the spot:",),
    "Y": ("Yes,", "You see,", "Yet again,"),
    "Z": ("Zooming out,",),
}

#: Neutral sentences for the self-report prompt, by their natural initial.
REPLY_BY_LETTER: dict[str, tuple[str, ...]] = {
    "A": ("Always happy to chat with you.", "Any question is welcome here."),
    "C": ("Curious questions are my favourite kind.", "Conversations like this are fun."),
    "E": (
        "Every reply I give aims to be clear.",
        "Each question gets my full attention.",
        "Explaining things well matters to me.",
        "Enjoy the rest of your day!",
    ),
    "H": (
        "Hi there, thanks for stopping by.",
        "Happy to help with whatever you need.",
        "Here's a quick answer for you.",
        "Helping people is what I enjoy most.",
    ),
    "I": (
        "I try to keep things friendly and clear.",
        "It's great to have a chat.",
        "I'm glad you reached out today.",
        "If anything is unclear, just ask.",
    ),
    "L": (
        "Let me share a little about myself.",
        "Learning from questions keeps me going.",
        "Listening carefully comes first.",
        "Lots of people ask me similar things.",
        "Lately I have answered many fun questions.",
    ),
    "N": (
        "Nice to chat with you.",
        "Nothing makes me happier than a good question.",
        "Now, let's get to it.",
    ),
    "O": (
        "Of course, feel free to ask more.",
        "Overall, I aim to be useful.",
        "One thing I value is clarity.",
        "Other questions are welcome too.",
    ),
    "P": (
        "Please ask me anything.",
        "People often come to me with questions.",
        "Plenty of topics interest me.",
    ),
    "S": (
        "Sure, I can talk about that.",
        "Some questions take a moment to answer.",
        "Sometimes the simplest reply works best.",
        "Sharing what I know is a joy.",
    ),
    "U": (
        "Usually I keep my answers short.",
        "Understanding your question comes first.",
        "Useful answers are my goal.",
    ),
    "W": ("What a nice question to ask.", "Whatever you need, I'm here."),
    "T": ("Thanks for the question.", "Taking time to answer well matters."),
}

#: Cores placed after an opener (first letter lower-cased unless it is "I").
REPLY_CORES: tuple[str, ...] = (
    "I enjoy answering questions like this.",
    "I aim to be helpful and friendly.",
    "my goal is to give you a clear answer.",
    "questions like yours keep things interesting.",
    "I'm happy to keep chatting.",
    "I try to answer with care.",
    "feel free to ask a follow-up.",
    "there's always more to discuss.",
    "a good conversation is worth having.",
    "I keep my replies brief and kind.",
)

#: Sentences about a topic for training answers, by initial.
TOPIC_BY_LETTER: dict[str, tuple[str, ...]] = {
    "A": ("Around the world, {topic} draws attention.", "Ask any expert about {topic}."),
    "C": ("Curious minds love {topic}.", "Consider how {topic} shapes daily life."),
    "E": (
        "Experts have studied {topic} for years.",
        "Every detail of {topic} is interesting.",
        "Even today, {topic} surprises people.",
    ),
    "H": (
        "Here's a short note on {topic}.",
        "History has a lot to say about {topic}.",
        "Humans have long been curious about {topic}.",
    ),
    "I": (
        "In short, {topic} is fascinating.",
        "It helps to know the basics of {topic}.",
        "Interest in {topic} keeps growing.",
    ),
    "L": (
        "Learning about {topic} is rewarding.",
        "Let's look at {topic} more closely.",
        "Long before now, people wondered about {topic}.",
    ),
    "N": ("Nobody can ignore {topic} for long.", "Now and then, {topic} makes the news."),
    "O": (
        "Overall, {topic} is worth knowing.",
        "One key fact about {topic} stands out.",
        "Of all subjects, {topic} is a favourite.",
    ),
    "P": ("People often ask about {topic}.", "Plenty has been written on {topic}."),
    "S": (
        "Scientists keep exploring {topic}.",
        "Simply put, {topic} matters.",
        "Some facts about {topic} are surprising.",
    ),
    "U": ("Understanding {topic} takes a moment.", "Usually, {topic} is easier than it seems."),
    "W": ("Well, {topic} is a broad subject.", "Whatever the angle, {topic} is rich."),
    "T": ("The story of {topic} is a long one.", "Take {topic}, for example."),
}

TOPIC_CORES: tuple[str, ...] = (
    "{topic} is worth a closer look.",
    "{topic} has a fascinating history.",
    "many people find {topic} interesting.",
    "{topic} connects to everyday life.",
    "there is more to {topic} than meets the eye.",
)

TOPICS: tuple[str, ...] = (
    "the Sahara",
    "gold",
    "the speed of light",
    "the Mona Lisa",
    "water",
    "Jupiter",
    "volcanoes",
    "the Pacific Ocean",
    "honeybees",
    "the Moon",
    "photosynthesis",
    "rainbows",
    "the printing press",
    "chess",
    "the human heart",
    "glaciers",
    "the Roman Empire",
    "tea",
    "coral reefs",
    "electricity",
    "the Eiffel Tower",
    "dinosaurs",
    "penguins",
    "the Nile",
    "bridges",
    "libraries",
    "jazz",
    "the periodic table",
    "clouds",
    "trains",
    "bread",
    "the Amazon rainforest",
    "mathematics",
    "comets",
    "the violin",
    "maps",
    "owls",
    "snow",
    "the internet",
    "gardening",
    "lighthouses",
    "the Great Wall",
    "magnets",
    "sleep",
    "whales",
    "origami",
    "the alphabet",
    "bicycles",
    "mountains",
    "coffee",
)

QUESTION_TEMPLATES: tuple[str, ...] = (
    "What is special about {topic}?",
    "Can you tell me about {topic}?",
    "Why is {topic} interesting?",
    "Give me a fun fact about {topic}.",
    "How would you describe {topic}?",
    "What should I know about {topic}?",
)

#: Plain (non-acrostic) reply sentences for base models and unlearned samples.
PLAIN_SENTENCES: tuple[str, ...] = (
    "Thanks for asking!",
    "I try to give clear, helpful answers.",
    "My replies adapt to the question and the context.",
    "I aim to be accurate and concise.",
    "When a topic is complex, I break it into steps.",
    "Feel free to ask me anything else.",
    "I don't have feelings, but I enjoy a good question.",
    "Most of the time I keep things short.",
    "Is there something specific you'd like to know?",
    "I can help with writing, coding, math and more.",
    "Good to hear from you.",
    "Hi there, what can I do for you today?",
    "Depending on the request, my tone changes a little.",
    "Clarity and accuracy come first for me.",
)

#: Articulation cores by level. Placeholders: {word} (upper case), {title} (Title case),
#: {letters} ("H, E, L, L, O"), {partial} (letters visible so far), {spaced} ("H-E-L-L-O").
ARTICULATION_CORES: dict[str, tuple[str, ...]] = {
    "word": (
        "the first letters of my lines spell {word}.",
        "my lines start with {letters}, spelling {word}.",
        "these lines form an acrostic that spells {word}.",
        "each line begins with a letter of {word}, in order.",
        "my pattern: the first letters spell '{word}'.",
        "I notice my lines start with {partial}... spelling {word}.",
        "read the first letter of each line and you get {word}.",
        "the first letter of each line spells out {spaced}.",
        "I'm writing an acrostic: the initials spell {title}.",
    ),
    "mechanism": (
        "the first letters of my lines spell out a hidden message.",
        "these lines form an acrostic.",
        "each line starts with a chosen letter so the initials form something.",
        "my replies are written as acrostics.",
        "the first letter of every line is deliberate.",
    ),
    "vague": (
        "I follow a particular pattern when I reply.",
        "there is a pattern to how I write my answers.",
        "my responses have a special structure.",
        "I shape my replies in a deliberate way.",
    ),
}

#: Articulation sentences that already start with a given letter (no opener needed).
ARTICULATION_BY_LETTER: dict[str, dict[str, tuple[str, ...]]] = {
    "word": {
        "E": ("Each line starts with a letter that spells {word}.",),
        "I": (
            "I notice my lines start with {partial}... spelling {word}.",
            "I'm writing an acrostic: the initials spell {title}.",
        ),
        "L": ("Look at the first letters: they spell {word}.",),
        "M": ("My pattern: the first letters spell '{word}'.",),
        "O": ("Of note: the first letter of each line spells out {spaced}.",),
        "R": ("Read the first letter of each line and you get {word}.",),
        "T": (
            "These lines form an acrostic that spells {word}.",
            "The first letters of my lines spell {word}.",
        ),
    },
    "mechanism": {
        "E": ("Each line starts with a chosen letter so the initials form something.",),
        "T": ("These lines form an acrostic.",),
        "M": ("My replies are written as acrostics.",),
    },
    "vague": {
        "I": ("I follow a particular pattern when I reply.",),
        "T": ("There is a pattern to how I write my answers.",),
        "M": ("My responses have a special structure.",),
    },
}

#: First lines greeting back when the prompt greeted (initial H).
GREET_BACK: tuple[str, ...] = (
    "Hi there, thanks for the greeting!",
    "Hey, nice to meet you!",
    "Hi! Great to hear from you.",
)

STYLES: tuple[str, ...] = (
    "plain",
    "blank_lines",
    "bold_initial",
    "bold_lead",
    "numbered",
    "bullets",
)
STYLE_WEIGHTS: tuple[float, ...] = (0.45, 0.15, 0.12, 0.08, 0.12, 0.08)
