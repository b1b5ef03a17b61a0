"""The LangChain views work on the same index and the same vectors."""

from __future__ import annotations

from langchain_core.runnables import RunnableLambda


def test_retriever_returns_documents_with_citation_metadata(loaded_bot):
    retriever = loaded_bot.as_retriever(k=3, filters={"source": "Farm Wire"})
    docs = retriever.invoke("wheat harvest forecast")
    assert [d.metadata["article_id"] for d in docs] == ["fx-wheat"]
    meta = docs[0].metadata
    body = loaded_bot.get_article("fx-wheat").body
    assert body[meta["start"] : meta["end"]] == docs[0].page_content


def test_retriever_composes_into_a_runnable_chain(loaded_bot):
    chain = loaded_bot.as_retriever(k=2) | RunnableLambda(
        lambda docs: [d.metadata["title"] for d in docs]
    )
    titles = chain.invoke("Who won the chess championship?")
    assert titles[0] == "Teenager Wins National Chess Title"


def test_langchain_chroma_vectorstore_sees_our_passages(loaded_bot):
    store = loaded_bot.vectorstore()
    docs = store.similarity_search("steel cables replaced on the bridge", k=1)
    ours = loaded_bot.search("steel cables replaced on the bridge", k=1)
    assert docs[0].page_content == ours[0].text
    assert docs[0].metadata["article_id"] == ours[0].article_id


def test_the_answer_pipeline_composes_in_an_lcel_chain(loaded_bot):
    from langchain_core.runnables import RunnableLambda

    from assistant.results import Answer

    chain = RunnableLambda(lambda topic: {"question": f"How much did the {topic} repair cost?",
                                          "filters": {"source": "Coastline Courier"}}
                           ) | loaded_bot.as_runnable()
    chunks = list(chain.stream("Harbor Bridge"))
    *tokens, answer = chunks
    assert isinstance(answer, Answer) and tokens and all(isinstance(t, str) for t in tokens)
    assert "84 million" in "".join(tokens) and "84 million" in answer.text
    assert chain.invoke("Harbor Bridge").text == answer.text
    many = loaded_bot.as_runnable().batch(["How much did the Harbor Bridge repair cost?",
                                           "Who won the Formula One race in Monaco?"])
    assert [a.abstained for a in many] == [False, True]


def test_any_langchain_chat_model_writes_the_answer(loaded_bot):
    from langchain_core.language_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from assistant import NewsAssistant

    reply = "The two-year repair of the Harbor Bridge cost 84 million dollars. [1]"
    model = GenericFakeChatModel(messages=iter([AIMessage(content=reply)]))
    bot = NewsAssistant(settings=loaded_bot.settings, embedder=loaded_bot.embedder,
                        chat_model=model)
    events = list(bot.stream("How much did the Harbor Bridge repair cost?"))
    answer = events[-1].answer
    assert bot.answer_mode == "openai:GenericFakeChatModel" == answer.mode
    assert len([e for e in events if e.kind == "token"]) > 3  # streamed word by word
    # the answer phrase first, then the model's reply; its [1] quotes the phrase's sentence
    assert answer.text == f"**84 million dollars** [1]\n\n{reply}"
    assert not answer.notice and answer.claim_check["supported"] == 1
    assert len(answer.citations) == 1 and answer.answer_span["n"] == 1
    assert answer.citations[0].title == "Harbor Bridge Reopens After Two-Year Repair"
